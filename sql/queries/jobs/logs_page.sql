-- jobs/logs_page: one page of a job's log after a cursor (the last line id
-- the client has), for the job's app only.
-- $1 job id, $2 app, $3 after id, $4 limit
SELECT l.id, l.attempt, l.stream, l.at, l.line
FROM drover.job_logs AS l
JOIN drover.jobs AS j ON j.id = l.job_id
WHERE l.job_id = $1::bigint AND j.app = $2 AND l.id > $3::bigint
ORDER BY l.id
LIMIT $4;
