-- sweeps/expire_artifacts: artifacts past their retention, at most $2 per run.
-- $1 now (NULL: now()), $2 batch
WITH gone AS (
    DELETE FROM drover.artifacts
    WHERE id IN (SELECT id FROM drover.artifacts WHERE expires_at <= coalesce($1::timestamptz, now())
                 ORDER BY expires_at LIMIT $2)
    RETURNING sha256
)
SELECT sha256 FROM gone;
