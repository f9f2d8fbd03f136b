-- jobs/rescue_expired: puts back jobs whose worker lost its lease (killed,
-- hung, cut off): pending again with the retry backoff while attempts remain,
-- failed when they are spent, cancelled when a cancel was requested. At most
-- $2 per call, oldest expiry first; SKIP LOCKED so that it never waits on a
-- worker that is completing the same job right now.
-- $1 now (NULL = now()), $2 limit
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
           coalesce($1::timestamptz, now()) AS now
    FROM drover.jobs AS j JOIN expired USING (id)
)
UPDATE drover.jobs AS j
SET status = d.status,
    finished_at = CASE WHEN d.status = 'pending' THEN NULL ELSE d.now END,
    run_at = CASE WHEN d.status = 'pending'
        THEN d.now + make_interval(secs => least(power(j.attempt, 4) + 1, 86400) * (0.9 + random() * 0.2))
        ELSE j.run_at END,
    last_error = d.error,
    errors = drover.append_error(j.errors, j.attempt, d.now, d.error),
    lease_owner = NULL,
    lease_expires_at = NULL
FROM decided AS d
WHERE j.id = d.id
RETURNING j.id, j.status;
