-- sweeps/dequeue_deletions: a group of queued files was removed (or is needed again).
-- $1 sha256[]
DELETE FROM drover.storage_deletions WHERE sha256 = ANY($1::text[]);
