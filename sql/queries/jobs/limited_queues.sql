-- jobs/limited_queues: which queues have a concurrency limit (workers refresh
-- this at every poll, so a limit set elsewhere takes effect within one).
SELECT queue FROM drover.queue_limits;
