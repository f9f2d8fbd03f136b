-- jobs/append_logs: many log lines of many jobs in one statement; the worker
-- batches what its jobs wrote since the last flush (every 200 ms at most) so
-- that a chatty job costs a statement per flush, not one per line.
-- Only lines of attempts this worker still holds are kept: a worker that lost
-- a lease (rescued, or its claim lost in a server crash) must not write into
-- a log that now belongs to another worker's attempt. The jobs are looked up
-- once each (`held`), not once per line. status::text: one primary-key lookup
-- per job in the generic plan, see jobs/complete_many.
-- ORDER BY ord: ids follow the order the lines were written, whatever join
-- the planner picks.
-- $1 owner, $2 job ids, $3 attempts, $4 streams, $5 times, $6 lines
WITH held AS MATERIALIZED (
    SELECT id, attempt
    FROM drover.jobs
    WHERE id = ANY($2::bigint[]) AND status::text = 'running' AND lease_owner = $1
)
INSERT INTO drover.job_logs (job_id, attempt, stream, at, line)
SELECT l.job_id, l.attempt, l.stream, l.at, l.line
FROM unnest($2::bigint[], $3::integer[], $4::text[], $5::timestamptz[], $6::text[])
         WITH ORDINALITY AS l(job_id, attempt, stream, at, line, ord)
JOIN held AS h ON h.id = l.job_id AND h.attempt = l.attempt
ORDER BY l.ord;
