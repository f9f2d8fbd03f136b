-- GET /metrics: jobs by queue and status. A count over the whole table at
-- each scrape (Prometheus scrapes every 15-60 s); the sweeps keep the table to
-- the unfinished jobs plus the retention window.
SELECT queue, status::text AS status, count(*) AS n
FROM drover.jobs
GROUP BY queue, status
ORDER BY queue, status
