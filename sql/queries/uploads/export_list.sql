-- uploads/export_list: the upload records `drover export` writes (every one,
-- or only whitelisted and protected ones), oldest first. Each one's content
-- lock is taken shared for the rest of the transaction, so the deletion
-- queue (sweeps/lock_contents, exclusive) cannot remove a file while it is
-- being copied into the archive.
-- $1 whitelisted only
SELECT u.id, u.app, u.sha256, u.size, u.media_type, u.entries, u.uncompressed_size, u.created_at,
       u.last_used_at, u.whitelisted, u.protected, u.expires_at,
       pg_advisory_xact_lock_shared(1685221238, hashtext(u.sha256)) AS locked
FROM drover.uploads u
WHERE NOT $1::boolean OR u.whitelisted
ORDER BY u.id;
