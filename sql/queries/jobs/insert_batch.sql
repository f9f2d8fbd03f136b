-- jobs/insert_batch: POST /v1/jobs/batch, every job in one statement (one
-- round trip, one notification per queue from the statement trigger, and
-- the app's limit checked once for the lot). All or none: any row the table
-- refuses (a CHECK, a unique_key of an unfinished job) fails the statement.
-- Ids come back in the order of the arrays.
-- $1 apps, $2 kinds, $3 args (jsonb text), $4 queues, $5 priorities,
-- $6 run_ats (NULL = now), $7 max_attempts, $8 timeouts, $9 unique keys
INSERT INTO drover.jobs (app, kind, args, queue, priority, run_at, max_attempts, timeout_s, unique_key)
SELECT app, kind, args::jsonb, queue, priority::smallint, coalesce(run_at::timestamptz, now()), max_attempts::integer,
       timeout_s::integer, unique_key
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[],
            $9::text[]) WITH ORDINALITY
         AS b(app, kind, args, queue, priority, run_at, max_attempts, timeout_s, unique_key, n)
ORDER BY n
RETURNING id;
