-- jobs/delete_finished: removes a finished job of the app and its log lines
-- in one statement (job_logs has no foreign key to cascade, see migration
-- 20261123000006). Nothing when the job is unknown to this app or unfinished.
-- $1 id, $2 app
WITH job AS (
    DELETE FROM drover.jobs
    WHERE id = $1::bigint AND app = $2 AND status IN ('succeeded', 'failed', 'cancelled')
    RETURNING id
), lines AS (
    DELETE FROM drover.job_logs WHERE job_id IN (SELECT id FROM job) RETURNING 1
)
SELECT job.id, (SELECT count(*) FROM lines) AS log_lines FROM job;
