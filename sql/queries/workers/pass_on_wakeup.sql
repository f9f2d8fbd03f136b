-- workers/pass_on_wakeup: a worker woken for new jobs of queues $1 found its
-- slots full (it raced another claim); rather than leave the jobs to the next
-- poll, it wakes every worker of those queues, as before targeted wake-ups.
SELECT pg_notify('drover_jobs', q) FROM unnest($1::text[]) AS q;
