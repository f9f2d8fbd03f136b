-- uploads/get: one upload of one app; nothing for another app's (the API answers 404).
-- $1 id, $2 app
SELECT id, app, sha256, size, media_type, entries, uncompressed_size, created_at, last_used_at,
       whitelisted, protected, expires_at
FROM drover.uploads
WHERE id = $1 AND app = $2;
