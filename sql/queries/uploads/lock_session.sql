-- uploads/lock_session: an open session of one app, locked for the rest of
-- the transaction so that its parts are written and completed one at a
-- time; nothing for another app's, an unknown or an expired one.
-- $1 id, $2 app, $3 now (NULL: now())
SELECT id, app, created_at, expires_at
FROM drover.upload_sessions
WHERE id = $1 AND app = $2 AND expires_at > coalesce($3::timestamptz, now())
FOR UPDATE;
