-- jobs/rescue_expired: puts back jobs whose worker lost its lease (killed,
-- hung, cut off): pending again with the retry backoff while attempts remain,
-- failed when they are spent, cancelled when a cancel was requested. At most
-- $2 per call, oldest expiry first; SKIP LOCKED so that it never waits on a
-- worker that is completing the same job right now.
-- The retry delay is the kind's own backoff when the caller knows it (the
-- kinds file's "backoff": initial_s x multiplier^(attempt-1), capped at
-- max_s, as Backoff::delay_s), else the default attempt^4 + 1 s of
-- jobs/complete_many; ±10 % jitter either way.
-- $1 now (NULL = now()), $2 limit, $3 kinds with a backoff, $4 their
-- initial_s, $5 multipliers, $6 max_s (empty arrays: the default for all)
WITH expired AS MATERIALIZED (
    SELECT id
    FROM drover.jobs
    WHERE status = 'running' AND lease_expires_at < coalesce($1::timestamptz, now())
    ORDER BY lease_expires_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), decided AS (
    SELECT j.id,
           CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
                WHEN j.attempt < j.max_attempts THEN 'pending'
                ELSE 'failed' END::drover.job_status AS status,
           'lease expired: worker ' || j.lease_owner || ' stopped renewing it' AS error,
           coalesce($1::timestamptz, now()) AS now,
           coalesce(ceil(least(b.initial_s * power(b.multiplier, greatest(j.attempt - 1, 0)), b.max_s)),
                    least(power(j.attempt, 4) + 1, 86400)) AS delay_s
    FROM drover.jobs AS j
    JOIN expired USING (id)
    LEFT JOIN unnest($3::text[], $4::double precision[], $5::double precision[], $6::double precision[])
        AS b(kind, initial_s, multiplier, max_s) ON b.kind = j.kind
)
UPDATE drover.jobs AS j
SET status = d.status,
    finished_at = CASE WHEN d.status = 'pending' THEN NULL ELSE d.now END,
    run_at = CASE WHEN d.status = 'pending'
        THEN d.now + make_interval(secs => d.delay_s * (0.9 + random() * 0.2))
        ELSE j.run_at END,
    last_error = d.error,
    errors = drover.append_error(j.errors, j.attempt, d.now, d.error),
    lease_owner = NULL,
    lease_expires_at = NULL
FROM decided AS d
WHERE j.id = d.id
RETURNING j.id, j.status;
