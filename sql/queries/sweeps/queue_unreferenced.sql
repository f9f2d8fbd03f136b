-- sweeps/queue_unreferenced: of the blobs $1, those no upload or artifact
-- names any more lose their row and have their file queued for deletion, in
-- the deciding sweep's transaction. $2: the records deleted in this same
-- statement's transaction are already gone (the caller ran them first).
-- $1 sha256[]
WITH gone AS (
    DELETE FROM drover.blobs b
    WHERE b.sha256 = ANY($1::text[])
      AND NOT EXISTS (SELECT 1 FROM drover.uploads u WHERE u.sha256 = b.sha256)
      AND NOT EXISTS (SELECT 1 FROM drover.artifacts a WHERE a.sha256 = b.sha256)
    RETURNING b.sha256
)
INSERT INTO drover.storage_deletions (sha256)
SELECT sha256 FROM gone
ON CONFLICT (sha256) DO NOTHING
RETURNING sha256;
