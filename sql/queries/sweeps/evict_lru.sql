-- sweeps/evict_lru: when stored bytes pass $1 (the threshold), the least
-- recently used blobs go, oldest use first, until usage is at most $2 (the
-- target). Spared: blobs a whitelisted (or protected) upload names, and blobs
-- an upload names that a pending or running job needs. The records naming
-- an evicted blob (uploads, artifacts) are deleted with it. Returns the
-- blobs whose records went; sweeps/queue_unreferenced deletes and queues them.
-- $1 threshold bytes, $2 target bytes
WITH usage AS (
    SELECT coalesce(sum(size), 0) AS used FROM drover.blobs
), candidates AS (
    SELECT b.sha256, b.size,
           sum(b.size) OVER (ORDER BY b.last_used_at, b.sha256) AS freed_through
    FROM drover.blobs b
    WHERE NOT EXISTS (
        SELECT 1 FROM drover.uploads u
        WHERE u.sha256 = b.sha256
          AND (u.whitelisted
               OR EXISTS (SELECT 1 FROM drover.jobs j WHERE j.upload_id = u.id AND j.status IN ('pending', 'running'))))
), chosen AS (
    -- Each blob whose eviction is still needed: usage before it is freed is over the target.
    SELECT c.sha256 FROM candidates c, usage
    WHERE usage.used > $1::bigint AND usage.used - (c.freed_through - c.size) > $2::bigint
), uploads_gone AS (
    DELETE FROM drover.uploads u USING chosen WHERE u.sha256 = chosen.sha256 RETURNING u.sha256
), artifacts_gone AS (
    DELETE FROM drover.artifacts a USING chosen WHERE a.sha256 = chosen.sha256 RETURNING a.sha256
)
SELECT sha256 FROM chosen;
