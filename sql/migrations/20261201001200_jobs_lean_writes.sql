-- migrate:up
-- Less WAL per job (issue 12). Measured with pg_walinspect over 100,000 noop
-- jobs drained by 2 workers x 50 (prod settings, after a CHECKPOINT):
-- 1,139 bytes of WAL per job before, of which
--   Heap/LOCK 3 per job (278 B): one is the claim's FOR UPDATE; the other two
--     are written by every UPDATE whose new row version does not fit on the
--     old one's page (it locks the old version while it looks for room);
--   Btree/INSERT_LEAF 6 per job (423 B): a status change is never a HOT
--     update (status is in the partial indexes' predicates), so each update
--     adds an entry to the primary key, jobs_by_app_newest, and whichever
--     partial indexes the new version matches: the claim two more for
--     running jobs (jobs_running_by_queue, jobs_running_lease).
-- fillfactor 50: new versions fit on the page of the old one (pruned by the
-- next visit), so no lock record, and the update record is smaller (same-page
-- updates log only what changed): 1,011 B per job (fillfactor 30: 939 B, at
-- the price of a table three times as large for a backlog). Existing pages
-- keep their rows; the setting applies as pages are written (no rewrite).
-- One partial index on running jobs instead of two: the rescue reads it in
-- lease order; jobs/queue_running counts a queue's running jobs from it
-- (the running rows are few: the workers' slots).
ALTER TABLE drover.jobs SET (fillfactor = 50);
CREATE INDEX jobs_running ON drover.jobs (lease_expires_at, queue) WHERE status = 'running';
DROP INDEX drover.jobs_running_by_queue;
DROP INDEX drover.jobs_running_lease;

-- migrate:down
CREATE INDEX jobs_running_lease ON drover.jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_running_by_queue ON drover.jobs (queue) WHERE status = 'running';
DROP INDEX drover.jobs_running;
ALTER TABLE drover.jobs RESET (fillfactor);
