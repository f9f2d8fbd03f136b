-- jobs/insert: one job from the API. The logic (unique-key dedup, defaults)
-- lives in drover.enqueue_job so SQL callers and the API behave the same.
-- $1 app, $2 kind, $3 args, $4 queue, $5 priority, $6 run_at (NULL = now),
-- $7 max_attempts, $8 timeout_s, $9 unique_key
SELECT e.created, (e.job).*
FROM drover.enqueue_job(
    kind => $2, args => $3::jsonb, queue => $4, priority => $5::smallint, run_at => $6::timestamptz,
    max_attempts => $7::integer, timeout_s => $8::integer, unique_key => $9, app => $1) AS e;
