-- uploads/put_part: records part $2 of session $1 (a part sent again replaces the first).
-- $1 session id, $2 number, $3 size, $4 sha256, $5 offset in the session's
-- data file (NULL: the part is in a file of its own)
INSERT INTO drover.upload_parts AS p (session_id, number, size, sha256, data_offset)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (session_id, number) DO UPDATE
SET size = excluded.size, sha256 = excluded.sha256, data_offset = excluded.data_offset, received_at = now()
RETURNING number, size, sha256, received_at, data_offset;
