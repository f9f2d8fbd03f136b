-- artifacts/record: a file a job left in outbound/ (its blob claimed in this
-- transaction by uploads/claim_blob); a later attempt's file of the same
-- name replaces the record.
-- $1 job id, $2 attempt, $3 name, $4 sha256, $5 size, $6 media_type, $7 retention seconds, $8 now (NULL: now())
INSERT INTO drover.artifacts AS a (job_id, app, attempt, name, sha256, size, media_type, created_at, expires_at)
SELECT j.id, j.app, $2, $3, $4, $5, $6, coalesce($8::timestamptz, now()),
       coalesce($8::timestamptz, now()) + make_interval(secs => $7::bigint)
FROM drover.jobs j
WHERE j.id = $1
ON CONFLICT (job_id, name) DO UPDATE
SET attempt = excluded.attempt, sha256 = excluded.sha256, size = excluded.size, media_type = excluded.media_type,
    created_at = excluded.created_at, expires_at = excluded.expires_at
RETURNING id;
