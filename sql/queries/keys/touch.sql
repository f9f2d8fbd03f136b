-- keys/touch: records that a key was used. The API runs it at most once a
-- minute per key and process, so reading a job does not write a row each time.
-- $1 id
UPDATE drover.api_keys SET last_used_at = now() WHERE id = $1::bigint;
