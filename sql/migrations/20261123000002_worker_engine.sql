-- migrate:up
-- A cancel request on a running job: the worker running it stops it and
-- records `cancelled`; if that worker is gone, the lease rescue does.
ALTER TABLE drover.jobs ADD COLUMN cancel_requested_at timestamptz;

-- Every line a job's attempts wrote (stdout, stderr) and the runner's own
-- lines. The identity gives the order and is the cursor clients page with;
-- the worker inserts each batch in the order the lines were written.
CREATE TABLE drover.job_logs (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id  bigint NOT NULL REFERENCES drover.jobs (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    stream  text NOT NULL,
    at      timestamptz NOT NULL,
    line    text NOT NULL,
    CONSTRAINT job_logs_stream_valid CHECK (stream IN ('stdout', 'stderr', 'runner'))
);
CREATE INDEX job_logs_by_job ON drover.job_logs (job_id, id);

-- Per-queue concurrency limits that hold across every worker process; a
-- queue without a row is unlimited. Workers write the limits their kinds file
-- declares when they start. Claims on a limited queue lock its row first
-- (jobs/lock_queue_limit), so two workers cannot both see room for the last slot.
CREATE TABLE drover.queue_limits (
    queue       text PRIMARY KEY,
    concurrency integer NOT NULL CHECK (concurrency >= 0)
);

-- Counting a queue's running jobs under its limit (jobs/queue_running).
CREATE INDEX jobs_running_by_queue ON drover.jobs (queue) WHERE status = 'running';

-- migrate:down
DROP INDEX drover.jobs_running_by_queue;
DROP TABLE drover.queue_limits;
DROP TABLE drover.job_logs;
ALTER TABLE drover.jobs DROP COLUMN cancel_requested_at;
