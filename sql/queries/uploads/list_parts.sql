-- uploads/list_parts: the parts a session received, in order.
-- $1 session id
SELECT number, size, sha256, received_at, data_offset FROM drover.upload_parts WHERE session_id = $1 ORDER BY number;
