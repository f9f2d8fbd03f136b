-- sweeps/storage_usage: what the storage holds, for GET /maintenance/storage.
SELECT (SELECT coalesce(sum(size), 0) FROM drover.blobs)::bigint AS used_bytes,
       (SELECT count(*) FROM drover.blobs) AS blobs,
       (SELECT count(*) FROM drover.uploads) AS uploads,
       (SELECT count(*) FROM drover.uploads WHERE whitelisted) AS whitelisted_uploads,
       (SELECT count(*) FROM drover.artifacts) AS artifacts,
       (SELECT count(*) FROM drover.upload_sessions) AS upload_sessions,
       (SELECT count(*) FROM drover.storage_deletions) AS queued_deletions;
