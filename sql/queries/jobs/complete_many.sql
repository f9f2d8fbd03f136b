-- jobs/complete_many: records the outcomes of many attempts in one statement.
-- Only jobs still running under worker $1's lease change, so a worker that
-- lost its lease can never overwrite what the rescuer or another worker did;
-- the ids returned are the ones recorded. Outcomes:
--   succeeded, failed  final;
--   retry              pending again after a backoff while attempts remain, else failed;
--   release            pending again at once, the attempt not counted (worker shutdown).
-- Backoff: attempt^4 + 1 seconds (2 s, 17 s, 82 s, …), capped at a day,
-- with ±10 % jitter so that a burst of failures does not come back in step.
-- $1 owner, $2 ids, $3 outcomes, $4 results (jsonb or NULL), $5 errors (text or NULL), $6 now
WITH outcome AS (
    SELECT o.id, o.outcome, o.result, o.error,
           (o.outcome = 'retry' AND j.attempt < j.max_attempts) AS retrying
    FROM unnest($2::bigint[], $3::text[], $4::jsonb[], $5::text[]) AS o(id, outcome, result, error)
    JOIN drover.jobs AS j ON j.id = o.id
    WHERE j.status = 'running' AND j.lease_owner = $1
    FOR UPDATE OF j
), clock AS (
    SELECT coalesce($6::timestamptz, now()) AS now
)
UPDATE drover.jobs AS j
SET status = CASE
        WHEN o.outcome = 'succeeded' THEN 'succeeded'
        WHEN o.retrying OR o.outcome = 'release' THEN 'pending'
        ELSE 'failed' END::drover.job_status,
    attempt = CASE WHEN o.outcome = 'release' THEN j.attempt - 1 ELSE j.attempt END,
    finished_at = CASE WHEN o.retrying OR o.outcome = 'release' THEN NULL ELSE clock.now END,
    run_at = CASE
        WHEN o.retrying THEN clock.now + make_interval(
            secs => least(power(j.attempt, 4) + 1, 86400) * (0.9 + random() * 0.2))
        WHEN o.outcome = 'release' THEN clock.now
        ELSE j.run_at END,
    result = CASE WHEN o.outcome = 'succeeded' THEN o.result ELSE j.result END,
    last_error = coalesce(o.error, j.last_error),
    errors = CASE WHEN o.error IS NULL THEN j.errors
        ELSE drover.append_error(j.errors, j.attempt, clock.now, o.error) END,
    lease_owner = NULL,
    lease_expires_at = NULL
FROM outcome AS o, clock
WHERE j.id = o.id
RETURNING j.id;
