-- sweeps/prune_jobs: finished jobs older than the retention go with their
-- log lines and artifacts, oldest first, at most $3 per run. Returns one row
-- per job ('job', id) and per artifact ('blob', sha256): the blobs are then
-- queued if nothing else names them. No index serves finished_at (one would
-- cost every completion an index insert): the walk goes by id, oldest first,
-- and stops at the batch.
-- $1 now (NULL: now()), $2 retention seconds, $3 batch
WITH job AS (
    DELETE FROM drover.jobs
    WHERE id IN (SELECT id FROM drover.jobs
                 WHERE status IN ('succeeded', 'failed', 'cancelled')
                   AND finished_at <= coalesce($1::timestamptz, now()) - make_interval(secs => $2::bigint)
                 ORDER BY id LIMIT $3)
    RETURNING id
), lines AS (
    DELETE FROM drover.job_logs WHERE job_id IN (SELECT id FROM job) RETURNING 1
), arts AS (
    DELETE FROM drover.artifacts WHERE job_id IN (SELECT id FROM job) RETURNING sha256
)
SELECT 'job' AS what, id::text AS value FROM job
UNION ALL
SELECT 'blob', sha256 FROM arts
UNION ALL
SELECT 'log_lines', count(*)::text FROM lines;
