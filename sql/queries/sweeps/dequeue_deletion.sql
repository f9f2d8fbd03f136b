-- sweeps/dequeue_deletion: a queued file was removed (or is needed again).
-- $1 sha256
DELETE FROM drover.storage_deletions WHERE sha256 = $1;
