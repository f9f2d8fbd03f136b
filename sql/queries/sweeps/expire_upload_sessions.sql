-- sweeps/expire_upload_sessions: parted uploads nobody completed in time (their
-- part rows go with them; their part folders are the caller's to remove).
-- $1 now (NULL: now()), $2 batch
DELETE FROM drover.upload_sessions
WHERE id IN (SELECT id FROM drover.upload_sessions WHERE expires_at <= coalesce($1::timestamptz, now())
             ORDER BY expires_at LIMIT $2)
RETURNING id;
