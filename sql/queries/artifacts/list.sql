-- artifacts/list: the unexpired artifacts of one job of one app, by name.
-- $1 job id, $2 app, $3 now (NULL: now())
SELECT a.id, a.job_id, a.attempt, a.name, a.sha256, a.size, a.media_type, a.created_at, a.expires_at
FROM drover.artifacts a
WHERE a.job_id = $1 AND a.app = $2 AND a.expires_at > coalesce($3::timestamptz, now())
ORDER BY a.name;
