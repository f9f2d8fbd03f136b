-- migrate:up
-- Per-kind concurrency limits that hold across every worker process, like
-- drover.queue_limits; a kind without a row is unlimited. Workers write the
-- limits their kinds file declares when they start. A claim of a limited
-- kind locks its row first (jobs/lock_kind_limit), so two workers cannot both
-- see room for the last slot. 0 pauses the kind (the kinds file asks for >= 1;
-- an operator may set 0 by hand).
CREATE TABLE drover.kind_limits (
    kind        text PRIMARY KEY,
    concurrency integer NOT NULL CHECK (concurrency >= 0)
);

-- No index for counting a kind's running jobs: every claim writes a new
-- tuple that is 'running', so a running-partial index on kind would cost
-- every claim of every kind an entry (measured: +66 WAL bytes per claimed
-- job, 505 -> 571, and ~15 % more server time in a loop of 50-job claims).
-- jobs/kind_running scans the running rows instead (jobs_running_lease):
-- 0.2-0.4 ms with 2,000 running, paid only by claims of limited kinds.

-- Serves the claim of one limited kind in one queue (jobs/claim_kind) and the
-- look for due jobs of limited kinds (jobs/limited_kinds_due). Kind first, so
-- that the per-queue claim keeps using jobs_claimable. Partial on pending: a
-- claim writes a new tuple that is 'running', so this index costs an entry at
-- insert (and when a job goes back to pending), not at claim or completion.
CREATE INDEX jobs_claimable_by_kind ON drover.jobs (kind, queue, priority DESC, run_at, id)
    WHERE status = 'pending';

-- migrate:down
DROP INDEX drover.jobs_claimable_by_kind;
DROP TABLE drover.kind_limits;
