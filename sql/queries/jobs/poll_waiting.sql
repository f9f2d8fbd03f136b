-- jobs/poll_waiting: what the long-poll waiter (api/long_poll.hpp) needs to
-- know about the jobs clients wait on, all in one query per round: their
-- app, whether they finished, and their last log line id.
-- $1 ids (bigint[])
SELECT j.id, j.app, j.status IN ('succeeded', 'failed', 'cancelled') AS finished,
       (SELECT max(l.id) FROM drover.job_logs AS l WHERE l.job_id = j.id) AS last_line
FROM drover.jobs AS j
WHERE j.id = ANY ($1::bigint[]);
