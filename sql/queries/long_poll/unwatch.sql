-- long_poll/unwatch: no request of this LISTEN connection waits on jobs $1
-- any more. A row left behind only costs a notification nobody reads.
-- $1 ids (bigint[])
DELETE FROM drover.job_waiters WHERE listen_pid = pg_backend_pid() AND job_id = ANY ($1::bigint[]);
