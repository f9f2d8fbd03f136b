-- sweeps/lock_content: the content's advisory lock (as uploads/claim_blob
-- takes it), then whether a blob row names it again. The file may be
-- removed only when `named` is false, before this transaction ends.
-- $1 sha256
WITH locked AS (
    SELECT pg_advisory_xact_lock(1685221238, hashtext($1)) AS l
)
SELECT EXISTS (SELECT 1 FROM drover.blobs WHERE sha256 = $1) AS named FROM locked;
