-- jobs/cancel: a pending job is cancelled at once; a running one is marked
-- and its worker is told on drover_cancel (and learns it at its next
-- heartbeat if the notification is lost). Returns the job, or nothing when it
-- does not exist for this app or has already finished.
-- $1 id, $2 app
WITH target AS (
    SELECT id, status FROM drover.jobs
    WHERE id = $1::bigint AND app = $2 AND status IN ('pending', 'running')
    FOR UPDATE
), changed AS (
    UPDATE drover.jobs AS j
    SET status = CASE WHEN t.status = 'pending' THEN 'cancelled' ELSE j.status END,
        finished_at = CASE WHEN t.status = 'pending' THEN now() ELSE j.finished_at END,
        cancel_requested_at = coalesce(j.cancel_requested_at, now())
    FROM target AS t
    WHERE j.id = t.id
    RETURNING j.*
)
SELECT changed.*,
       CASE WHEN changed.status = 'running' THEN pg_notify('drover_cancel', changed.id::text) END AS notified
FROM changed;
