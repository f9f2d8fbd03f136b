-- jobs/poll_waiting: what the long-poll waiter (api/long_poll.hpp) compares
-- for the jobs clients wait on, all in one query per look: their app, status,
-- attempt, progress, and last log line id. Asked for the jobs just parked,
-- and for all of them after a notification on drover_job_changes.
-- $1 ids (bigint[])
SELECT j.id, j.app, j.status::text, j.attempt, j.progress_percent, j.progress_message,
       (SELECT max(l.id) FROM drover.job_logs AS l WHERE l.job_id = j.id) AS last_line
FROM drover.jobs AS j
WHERE j.id = ANY ($1::bigint[]);
