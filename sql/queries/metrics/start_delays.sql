-- GET /metrics: how long the newest started jobs waited from due (run_at:
-- the enqueue, or the scheduled or retry time) to their start, counted per
-- upper bound in $1 (float8[], ascending), with the sample's count and sum.
-- The sample is the newest 10,000 jobs by id, read through the primary key,
-- so a scrape costs the same on any table size and needs no index on
-- started_at (one would cost WAL on every claim).
WITH recent AS (
    SELECT greatest(extract(epoch FROM started_at - run_at), 0)::float8 AS wait
    FROM drover.jobs
    WHERE id > coalesce((SELECT max(id) FROM drover.jobs), 0) - 10000
      AND started_at IS NOT NULL
)
SELECT b.bound,
       (SELECT count(*) FROM recent WHERE wait <= b.bound) AS le,
       (SELECT count(*) FROM recent) AS total,
       (SELECT coalesce(sum(wait), 0) FROM recent) AS sum_s
FROM unnest($1::float8[]) AS b(bound)
ORDER BY b.bound
