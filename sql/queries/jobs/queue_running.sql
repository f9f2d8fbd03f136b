-- jobs/queue_running: how many jobs of a queue run now (served by the
-- partial index jobs_running, migration jobs_lean_writes). $1 queue
SELECT count(*) FROM drover.jobs WHERE queue = $1 AND status = 'running';
