-- jobs/claim: hands up to $3 due jobs of one queue to worker $1, in claim
-- order: priority (highest first), then run_at, then id. One statement: the
-- MATERIALIZED CTE locks the rows with SKIP LOCKED (so concurrent workers
-- never wait on or share a row), the UPDATE marks them running under a
-- lease, and the jobs come back in claim order. The CTE is served by the
-- partial index jobs_claimable, (queue, -priority, run_at, id). One queue per
-- statement, because the index orders within a queue; the worker rotates over
-- its queues so that a flood in one cannot starve another.
--
-- Start position ($6, $7, $8: priority, run_at, id of the last job the worker
-- claimed from this queue; NULL = the head). A claimed job's index entry
-- stays in jobs_claimable, dead, until VACUUM, and a scan from the head walks
-- over every one of them: with 200,000 jobs that walk was ~1,460 buffer hits
-- per claim of 50, two thirds of the claim's work, growing with every job
-- done. Starting after the last claimed job skips them. What the position
-- can miss (a new job of higher priority, a retried job of higher priority
-- coming due, a row another claimer locked and then let go) is picked up by
-- a claim from the head, which the worker makes after a NOTIFY, when a claim
-- from the position comes back short, and at least every 500 ms.
--
-- The worker sends it in one pipeline after the previous batch's log lines
-- and results (JobStore::write_round): one round trip and one commit per
-- batch, generic plans. Measured with bench/run throughput_noop (200,000
-- jobs, 2 workers x 50): 4,099 commits and 23,818 jobs/s, against 8,010
-- commits and 16,043 jobs/s for a loop that claims from the head and
-- completes in separate commits.
-- Jobs of kinds with a concurrency limit ($9, empty when none) are left to
-- jobs/claim_kind, which counts them under a lock. The filter is checked on
-- the rows this claim fetches anyway (kind is not in jobs_claimable); but a
-- backlog of a limited kind ahead of the others in a queue is walked past by
-- every claim from the head of that queue (measured: 10,000 of them ahead,
-- 1.4 ms per claim of 50 instead of 0.05 ms), so a kind with large backlogs
-- does best in a queue of its own. Wrapped in coalesce() (a no-op: $9 holds
-- no NULL) because the planner rates a bare `kind <> ALL($9)` as matching
-- almost no row, and the generic plan then sorts every pending job of the
-- queue (100 ms with 200,000 of them) instead of reading the index in order.
--
-- $1 owner, $2 queue, $3 limit, $4 lease seconds, $5 now (NULL = now()),
-- $6 $7 $8 start position (or NULL), $9 limited kinds (skipped), $10 the
-- worker's slots with nothing to run (NULL = $3; a prefetching worker asks
-- for more than that, and only real idle slots may attract wake-ups)
--
-- Future jobs. `run_at <= now` cannot end a scan of jobs_claimable while the
-- priority column before it is not fixed: one scan over every priority level
-- read the entry of every job due later, so a claim that found nothing due
-- walked all of them (2,000,000 jobs due tomorrow: 128 ms and 12,047 buffers
-- per empty claim; bench/run throughput_noop with BENCH_EXTRA_PENDING). So
-- the claim reads one priority level at a time, where run_at is an index
-- bound (the scan of a level stops at its first job not yet due): `levels`
-- finds them in order, one index descent each (a skip scan), from the start
-- position's level or, from the head, the queue's first; the LIMIT stops the
-- recursion and the scans as soon as the claim is full, so only rows it takes
-- are locked. Claim order is unchanged.
WITH RECURSIVE levels(level) AS (
    SELECT coalesce(-$6::integer,
                    (SELECT -priority::integer FROM drover.jobs
                     WHERE status = 'pending' AND queue = $2
                     ORDER BY -priority::integer, run_at, id LIMIT 1))
    UNION ALL
    SELECT (SELECT -j.priority::integer FROM drover.jobs AS j
            WHERE j.status = 'pending' AND j.queue = $2 AND -j.priority::integer > l.level
            ORDER BY -j.priority::integer, j.run_at, j.id LIMIT 1)
    FROM levels AS l
    WHERE l.level IS NOT NULL
), picked AS MATERIALIZED (
    SELECT due.id
    FROM levels,
         LATERAL (SELECT j.id
                  FROM drover.jobs AS j
                  WHERE j.status = 'pending'
                    AND j.queue = $2
                    AND -j.priority::integer = levels.level
                    AND j.run_at <= coalesce($5::timestamptz, now())
                    AND (-j.priority::integer, j.run_at, j.id)
                        > (coalesce(-$6::integer, -2147483648), coalesce($7::timestamptz, '-infinity'),
                           coalesce($8::bigint, 0))
                    AND coalesce(j.kind <> ALL($9::text[]), true)
                  ORDER BY -j.priority::integer, j.run_at, j.id
                  LIMIT $3
                  FOR UPDATE OF j SKIP LOCKED) AS due
    WHERE levels.level IS NOT NULL
    LIMIT $3
), claimed AS (
    UPDATE drover.jobs AS j
    SET status = 'running',
        attempt = j.attempt + 1,
        lease_owner = $1,
        lease_expires_at = coalesce($5::timestamptz, now()) + make_interval(secs => $4::double precision),
        -- The claim time: for a job a worker prefetched (claimed while its
        -- slots were busy, started when one freed; see worker.hpp) that is up
        -- to ~2 job lengths before its process started.
        started_at = coalesce($5::timestamptz, now()),
        progress_percent = NULL,
        progress_message = NULL
    FROM picked
    -- The ANY() repeats the join on purpose: it makes the update a
    -- primary-key lookup whatever join the plan picks. A generic plan made
    -- on an empty table (workers start before the work arrives) joined by
    -- reading all of jobs_pkey instead, once per claim: ~100 jobs/s.
    WHERE j.id = picked.id AND j.id = ANY(ARRAY(SELECT id FROM picked))
    RETURNING j.id, j.kind, j.queue, j.args, j.attempt, j.max_attempts, j.timeout_s, j.priority, j.run_at,
              j.upload_id
), idle AS (
    -- The slots this claim left empty. A worker with idle slots claims again
    -- when an insert wakes it (drover.notify_jobs_inserted reads this) or at
    -- its poll; one that filled every slot claims again by itself as soon as
    -- a slot frees. Written only when it changes, so a worker that keeps
    -- filling its slots writes nothing here.
    UPDATE drover.workers
    SET idle_slots = greatest(0, coalesce($10::integer, $3) - (SELECT count(*) FROM claimed))
    WHERE worker_id = $1
      AND idle_slots <> greatest(0, coalesce($10::integer, $3) - (SELECT count(*) FROM claimed))
)
SELECT * FROM claimed ORDER BY -priority::integer, run_at, id;
