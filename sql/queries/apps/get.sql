-- apps/get: one app. $1 name
SELECT name, max_unfinished_jobs, rate_limit_per_s, created_at FROM drover.apps WHERE name = $1;
