-- sweeps/queued_deletions: files waiting to be removed, oldest first.
-- $1 batch
SELECT sha256 FROM drover.storage_deletions ORDER BY queued_at, sha256 LIMIT $1;
