-- apps/create: a new app; nothing when the name is taken.
-- $1 name, $2 max_unfinished_jobs, $3 rate_limit_per_s
INSERT INTO drover.apps (name, max_unfinished_jobs, rate_limit_per_s)
VALUES ($1, $2::integer, $3::integer)
ON CONFLICT (name) DO NOTHING
RETURNING name, max_unfinished_jobs, rate_limit_per_s, created_at;
