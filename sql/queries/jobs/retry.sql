-- jobs/retry: a failed or cancelled job of the app runs again: pending now,
-- with a fresh set of attempts; its errors history and last_error stay.
-- Nothing when the job is unknown to this app or not failed/cancelled.
-- Workers hear of it on drover_jobs (an update fires no insert trigger).
-- $1 id, $2 app
WITH retried AS (
    UPDATE drover.jobs
    SET status = 'pending', attempt = 0, run_at = now(), started_at = NULL, finished_at = NULL,
        cancel_requested_at = NULL, result = NULL, progress_percent = NULL, progress_message = NULL
    WHERE id = $1::bigint AND app = $2 AND status IN ('failed', 'cancelled')
    RETURNING *
)
SELECT retried.*, pg_notify('drover_jobs', retried.queue) AS notified FROM retried;
