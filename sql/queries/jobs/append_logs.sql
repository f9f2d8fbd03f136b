-- jobs/append_logs: many log lines of many jobs in one statement; the worker
-- batches what its jobs wrote since the last flush (every 200 ms at most) so
-- that a chatty job costs a statement per flush, not one per line. Rows are
-- produced in array order, so ids follow the order the lines were written.
-- $1 job ids, $2 attempts, $3 streams, $4 times, $5 lines
INSERT INTO drover.job_logs (job_id, attempt, stream, at, line)
SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::timestamptz[], $5::text[]);
