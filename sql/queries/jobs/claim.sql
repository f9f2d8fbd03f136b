-- jobs/claim: hands up to $3 due jobs of one queue to worker $1, in priority,
-- then run_at, then id order. One statement: the MATERIALIZED CTE locks the
-- rows with SKIP LOCKED (so concurrent workers never wait on or share a row),
-- and the UPDATE marks them running under a lease. The CTE is served by the
-- partial index jobs_claimable. One queue per statement, because the index
-- orders within a queue; the worker rotates over its queues so that a flood in
-- one cannot starve another.
-- The worker sends it in one pipeline with jobs/complete_many (the previous
-- batch's results): one round trip and one commit per batch. Measured with
-- bench/run throughput_noop (200,000 jobs, 2 workers x 50): ~4,200 commits
-- against ~8,000 for a loop that claims and completes in separate commits.
-- Jobs of kinds with a concurrency limit ($6, empty when none) are left to
-- jobs/claim_kind, which counts them under a lock. The filter is checked on
-- the rows this claim fetches anyway (kind is not in jobs_claimable); but a
-- backlog of a limited kind ahead of the others in a queue is walked past by
-- every claim of that queue (measured: 10,000 of them ahead, 1.4 ms per claim
-- of 50 instead of 0.05 ms), so a kind with large backlogs does best in a
-- queue of its own.
-- $1 owner, $2 queue, $3 limit, $4 lease seconds, $5 now (NULL = now()),
-- $6 limited kinds (skipped)
WITH picked AS MATERIALIZED (
    SELECT id
    FROM drover.jobs
    WHERE status = 'pending'
      AND queue = $2
      AND run_at <= coalesce($5::timestamptz, now())
      AND kind <> ALL($6::text[])
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
RETURNING j.id, j.kind, j.queue, j.args, j.attempt, j.max_attempts, j.timeout_s;
