-- uploads/attach_to_job: a job just inserted names an upload of its own app
-- (same transaction as the insert, so no worker sees the job without it);
-- nothing when the upload does not exist or is another app's.
-- $1 job id, $2 upload id
WITH attached AS (
    UPDATE drover.jobs j
    SET upload_id = u.id
    FROM drover.uploads u
    WHERE j.id = $1 AND u.id = $2 AND u.app = j.app
    RETURNING u.id
)
UPDATE drover.uploads u SET last_used_at = now()
FROM attached
WHERE u.id = attached.id
RETURNING u.id;
