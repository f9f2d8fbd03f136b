-- jobs/complete_many: records how many attempts ended, in one statement.
-- Only jobs still running under worker $1's lease change, so a worker that
-- lost its lease can never overwrite what the rescuer or another worker did;
-- the ids returned are the ones recorded. Outcomes:
--   succeeded, failed, cancelled  final;
--   retry     pending again after a backoff while attempts remain, else failed;
--   snooze    pending again after $7 seconds, the attempt not counted (the job asked);
--   release   pending again at once, the attempt not counted (worker shutdown).
-- Backoff: attempt^4 + 1 seconds (2 s, 17 s, 82 s, …), capped at a day,
-- with ±10 % jitter so that a burst of failures does not come back in step.
-- One statement for the whole batch: completing one job per statement cost a
-- commit (an fsync) per job.
-- $1 owner, $2 ids, $3 outcomes, $4 results (jsonb or NULL), $5 errors (text
-- or NULL), $6 now (NULL = now()), $7 snooze seconds (or NULL), $9 retry
-- delays from the kind's own backoff (or NULL: the formula above), $8 attempts
-- (an outcome counts only for the attempt it belongs to: a worker that lost a
-- job and claimed it again must not record the old attempt's ending).
-- The ownership test sits in the UPDATE's own WHERE, which Postgres checks
-- again on the row it locks, so no separate locking read is needed (that
-- read cost more server CPU and WAL per job in bench/run throughput_noop).
-- `status::text = 'running'` rather than `status = 'running'`, so that no
-- partial index on running jobs can serve it: those keep an entry for every
-- job claimed since the last VACUUM, and the generic plan (the worker's
-- pipeline forces generic plans, see JobStore::write_round) would hash-join
-- all of them; this way it is one primary-key lookup per outcome.
-- "Back to pending" is (retry with attempts left) or snooze or release; it is
-- spelled out in each SET below because an UPDATE cannot name its target row
-- from a FROM item.
UPDATE drover.jobs AS j
SET status = CASE
        WHEN o.outcome IN ('succeeded', 'failed', 'cancelled') THEN o.outcome
        WHEN o.outcome = 'retry' AND j.attempt < j.max_attempts THEN 'pending'
        WHEN o.outcome IN ('snooze', 'release') THEN 'pending'
        ELSE 'failed'
    END::drover.job_status,
    attempt = CASE WHEN o.outcome IN ('snooze', 'release') THEN j.attempt - 1 ELSE j.attempt END,
    finished_at = CASE
        WHEN (o.outcome = 'retry' AND j.attempt < j.max_attempts) OR o.outcome IN ('snooze', 'release') THEN NULL
        ELSE c.now END,
    run_at = CASE
        WHEN o.outcome = 'snooze' THEN c.now + make_interval(secs => o.snooze_s)
        WHEN o.outcome = 'release' THEN c.now
        WHEN o.outcome = 'retry' AND j.attempt < j.max_attempts
            THEN c.now + make_interval(
                secs => coalesce(o.retry_in_s, least(power(j.attempt, 4) + 1, 86400)) * (0.9 + random() * 0.2))
        ELSE j.run_at
    END,
    result = coalesce(o.result, j.result),
    last_error = coalesce(o.error, j.last_error),
    errors = CASE WHEN o.error IS NULL THEN j.errors
        ELSE drover.append_error(j.errors, j.attempt, c.now, o.error) END,
    lease_owner = NULL,
    lease_expires_at = NULL
FROM unnest($2::bigint[], $3::text[], $4::jsonb[], $5::text[], $7::integer[], $8::integer[], $9::integer[])
         AS o(id, outcome, result, error, snooze_s, attempt, retry_in_s),
     (SELECT coalesce($6::timestamptz, now()) AS now) AS c
WHERE j.id = o.id AND j.id = ANY($2::bigint[])  -- primary-key lookups whatever the join (see jobs/claim)
  AND j.status::text = 'running' AND j.lease_owner = $1 AND j.attempt = o.attempt
RETURNING j.id;
