-- jobs/queue_stats: GET /v1/queues, per queue of the app: jobs by status, the
-- age of the oldest due pending job, and the queue's concurrency limit.
-- Reads every job of the app (through drover.job_listing): its cost grows
-- with the app's history until old jobs are pruned.
-- $1 app
SELECT j.queue,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'running') AS running,
       count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'pending' AND run_at <= now()))::float8
           AS oldest_pending_age_s,
       max(l.concurrency) AS concurrency
FROM drover.job_listing AS a
JOIN drover.jobs AS j ON j.id = a.id AND j.app = a.app
LEFT JOIN drover.queue_limits AS l ON l.queue = j.queue
WHERE a.app = $1
GROUP BY j.queue
ORDER BY j.queue;
