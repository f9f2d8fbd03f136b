-- uploads/get_any: an upload's full record, any app (the admin listener), as
-- JSON, with how many unfinished jobs need it.
-- $1 id
SELECT json_build_object(
    'id', u.id::text, 'app', u.app, 'sha256', u.sha256, 'size', u.size, 'media_type', u.media_type,
    'entries', u.entries, 'uncompressed_size', u.uncompressed_size, 'created_at', u.created_at,
    'last_used_at', u.last_used_at, 'whitelisted', u.whitelisted, 'protected', u.protected,
    'expires_at', u.expires_at,
    'unfinished_jobs', (SELECT count(*) FROM drover.jobs j WHERE j.upload_id = u.id AND j.status IN ('pending', 'running')),
    'blob_last_used_at', b.last_used_at)::text AS record
FROM drover.uploads u JOIN drover.blobs b ON b.sha256 = u.sha256
WHERE u.id = $1;
