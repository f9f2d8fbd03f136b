-- uploads/import: the records of a `drover import`, in one statement, their
-- blobs already claimed in this transaction (uploads/claim_blob). A record
-- equal to one already here (same app, content and creation time: the same
-- archive imported twice) is skipped. Returns the id of each record
-- inserted.
-- $1 apps, $2 sha256s, $3 sizes, $4 media types, $5 entries, $6 uncompressed sizes,
-- $7 created_at, $8 last_used_at, $9 whitelisted, $10 protected, $11 expires_at (NULLs)
INSERT INTO drover.uploads (app, sha256, size, media_type, entries, uncompressed_size, created_at, last_used_at,
                            whitelisted, protected, expires_at)
SELECT r.app, r.sha256, r.size, r.media_type, r.entries, r.uncompressed_size, r.created_at::timestamptz,
       r.last_used_at::timestamptz, r.whitelisted::boolean, r.protected::boolean, r.expires_at::timestamptz
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
         AS r(app, sha256, size, media_type, entries, uncompressed_size, created_at, last_used_at, whitelisted,
              protected, expires_at, n)
WHERE NOT EXISTS (SELECT 1 FROM drover.uploads u
                  WHERE u.app = r.app AND u.sha256 = r.sha256 AND u.created_at = r.created_at::timestamptz)
ORDER BY r.n
RETURNING id;
