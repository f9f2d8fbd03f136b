-- jobs/set_kind_limit: declares a kind's concurrency limit. $1 kind, $2 concurrency
INSERT INTO drover.kind_limits (kind, concurrency) VALUES ($1, $2::integer)
ON CONFLICT (kind) DO UPDATE SET concurrency = excluded.concurrency;
