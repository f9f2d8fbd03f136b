-- artifacts/get: one unexpired artifact of a job of one app, by name; its blob's last use refreshed.
-- $1 job id, $2 app, $3 name, $4 now (NULL: now())
WITH found AS (
    SELECT a.id, a.job_id, a.attempt, a.name, a.sha256, a.size, a.media_type, a.created_at, a.expires_at
    FROM drover.artifacts a
    WHERE a.job_id = $1 AND a.app = $2 AND a.name = $3 AND a.expires_at > coalesce($4::timestamptz, now())
), touched AS (
    UPDATE drover.blobs b SET last_used_at = coalesce($4::timestamptz, now())
    FROM found WHERE b.sha256 = found.sha256
)
SELECT * FROM found;
