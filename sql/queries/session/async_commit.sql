-- session/async_commit: this transaction commits without waiting for its WAL
-- to reach disk. Sent in the same pipeline as a claim or a heartbeat, whose
-- loss in a server crash only means the job is claimed (and run) again:
-- at-least-once holds, and the next durable commit (a completion) flushes
-- the claim's WAL along with its own. Saves an fsync on the path from
-- NOTIFY to a running job. Completions and inserts stay durable.
SELECT set_config('synchronous_commit', 'off', true);
