-- uploads/insert: an app's record of a stored zip (its blob already claimed in
-- this transaction by uploads/claim_blob).
-- $1 app, $2 sha256, $3 size, $4 media_type, $5 entries, $6 uncompressed_size, $7 now (NULL: now())
INSERT INTO drover.uploads (app, sha256, size, media_type, entries, uncompressed_size, created_at, last_used_at)
VALUES ($1, $2, $3, $4, $5, $6, coalesce($7::timestamptz, now()), coalesce($7::timestamptz, now()))
RETURNING id, app, sha256, size, media_type, entries, uncompressed_size, created_at, last_used_at,
          whitelisted, protected, expires_at;
