-- jobs/set_queue_limit: declares a queue's concurrency limit. $1 queue, $2 concurrency
INSERT INTO drover.queue_limits (queue, concurrency) VALUES ($1, $2::integer)
ON CONFLICT (queue) DO UPDATE SET concurrency = excluded.concurrency;
