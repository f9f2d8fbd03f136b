-- artifacts/get_by_id: one unexpired artifact of one app by its id (GA4GH DRS objects).
-- $1 id, $2 app
SELECT a.id, a.job_id, a.attempt, a.name, a.sha256, a.size, a.media_type, a.created_at, a.expires_at
FROM drover.artifacts a
WHERE a.id = $1 AND a.app = $2 AND a.expires_at > now();
