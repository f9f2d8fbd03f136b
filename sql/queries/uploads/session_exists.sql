-- uploads/session_exists: whether a session row exists (any app, expired or not).
-- $1 id
SELECT 1 FROM drover.upload_sessions WHERE id = $1;
