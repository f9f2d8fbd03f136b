-- workers/register: this connection is worker $1's LISTEN connection, for
-- queues $2, with $3 idle slots. drover.notify_jobs_inserted wakes it on the
-- channel drover_worker_<this backend's pid>, which it LISTENs on first.
INSERT INTO drover.workers (listen_pid, worker_id, queues, idle_slots)
VALUES (pg_backend_pid(), $1, $2::text[], $3);
