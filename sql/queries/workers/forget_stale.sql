-- workers/forget_stale: drops registrations whose LISTEN connection is gone
-- (a killed worker, a server restart) and this worker's own earlier ones.
-- Sent with workers/register when the worker's listener (re)connects.
-- $1 worker id
DELETE FROM drover.workers
WHERE worker_id = $1 OR listen_pid NOT IN (SELECT pid FROM pg_stat_get_activity(NULL));
