-- sweeps/remove_unused_uploads: uploads no pending or running job names,
-- unused for the grace period $2 (seconds), never whitelisted ones; a
-- finished job keeps none alive (its upload_id goes NULL). At most $3 per run.
-- $1 now (NULL: now()), $2 grace seconds, $3 batch
WITH gone AS (
    DELETE FROM drover.uploads u
    WHERE u.id IN (
        SELECT c.id FROM drover.uploads c
        WHERE NOT c.whitelisted
          AND c.last_used_at <= coalesce($1::timestamptz, now()) - make_interval(secs => $2::bigint)
          AND NOT EXISTS (SELECT 1 FROM drover.jobs j
                          WHERE j.upload_id = c.id AND j.status IN ('pending', 'running'))
        ORDER BY c.last_used_at LIMIT $3)
    RETURNING u.sha256
)
SELECT sha256 FROM gone;
