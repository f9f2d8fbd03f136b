-- jobs/lock_queue_limit: first statement of a claim on a limited queue. It
-- locks the queue's limit row until the claim commits, so claims on that
-- queue take turns. The count (jobs/queue_running) and the claim run as later
-- statements, whose snapshots are taken after the lock and so see every claim
-- committed before it; inside this statement they would use an older one.
-- No row: the queue is unlimited. $1 queue
SELECT concurrency FROM drover.queue_limits WHERE queue = $1 FOR UPDATE;
