-- jobs/claim_kind: hands up to $3 due jobs of one limited kind in one queue to
-- worker $1, in priority, then run_at, then id order; the last statement of
-- JobStore::claim_kind, after the limits are locked and counted. Shaped like
-- jobs/claim, served by the partial index jobs_claimable_by_kind.
-- $1 owner, $2 queue, $3 limit, $4 lease seconds, $5 now (NULL = now()), $6 kind
WITH picked AS MATERIALIZED (
    SELECT id
    FROM drover.jobs
    WHERE status = 'pending'
      AND kind = $6
      AND queue = $2
      AND run_at <= coalesce($5::timestamptz, now())
    ORDER BY priority DESC, run_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE drover.jobs AS j
SET status = 'running',
    attempt = j.attempt + 1,
    lease_owner = $1,
    lease_expires_at = coalesce($5::timestamptz, now()) + make_interval(secs => $4::double precision),
    started_at = coalesce($5::timestamptz, now()),
    progress_percent = NULL,
    progress_message = NULL
FROM picked
WHERE j.id = picked.id
RETURNING j.id, j.kind, j.queue, j.args, j.attempt, j.max_attempts, j.timeout_s, j.priority, j.run_at,
          j.upload_id;
