-- jobs/limited_kinds: which kinds have a concurrency limit (workers refresh
-- this with jobs/limited_queues, and skip these kinds in jobs/claim).
SELECT kind FROM drover.kind_limits ORDER BY kind;
