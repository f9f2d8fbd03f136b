-- uploads/put_part: records part $2 of session $1 (a part sent again replaces the first).
-- $1 session id, $2 number, $3 size, $4 sha256
INSERT INTO drover.upload_parts AS p (session_id, number, size, sha256)
VALUES ($1, $2, $3, $4)
ON CONFLICT (session_id, number) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, received_at = now()
RETURNING number, size, sha256, received_at;
