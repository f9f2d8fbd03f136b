-- uploads/delete_session: a session and its part rows (its part files are the caller's to remove).
-- $1 session id
DELETE FROM drover.upload_sessions WHERE id = $1 RETURNING id;
