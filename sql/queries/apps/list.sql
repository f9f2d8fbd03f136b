-- apps/list: every app by name.
SELECT name, max_unfinished_jobs, rate_limit_per_s, created_at FROM drover.apps ORDER BY name;
