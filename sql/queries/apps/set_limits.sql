-- apps/set_limits: replaces an app's limits (NULL: no limit). A lower
-- max_unfinished_jobs does not touch jobs already in; it refuses new ones.
-- $1 name, $2 max_unfinished_jobs, $3 rate_limit_per_s
UPDATE drover.apps SET max_unfinished_jobs = $2::integer, rate_limit_per_s = $3::integer
WHERE name = $1
RETURNING name, max_unfinished_jobs, rate_limit_per_s, created_at;
