-- uploads/claim_blob: the blob row for content about to be stored, locked for
-- the rest of the transaction, so that a sweep deleting this blob and an
-- upload storing it again take turns. inserted: true when the row is new (the
-- caller then owns the file it writes and deletes it if it cannot commit).
-- The content's advisory lock (namespace 1685221238, 'drov') is the one the
-- deletion queue takes before it removes a file (sweeps/lock_contents): a file
-- is removed only while no row names it, and no row can appear meanwhile.
-- $1 sha256, $2 size, $3 now (NULL: now())
WITH locked AS (
    SELECT pg_advisory_xact_lock(1685221238, hashtext($1)) AS l
)
INSERT INTO drover.blobs AS b (sha256, size, created_at, last_used_at)
SELECT $1, $2, coalesce($3::timestamptz, now()), coalesce($3::timestamptz, now())
FROM locked
ON CONFLICT (sha256) DO UPDATE SET last_used_at = greatest(b.last_used_at, excluded.last_used_at)
RETURNING sha256, size, (xmax = 0) AS inserted;
