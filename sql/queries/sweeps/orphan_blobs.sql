-- sweeps/orphan_blobs: blob rows no upload or artifact names (their records
-- went another way: DELETE /v1/jobs cascading to artifacts, say), older
-- than $1 seconds so that a blob claimed by a transaction still storing its
-- record is left alone. At most $2.
-- $1 min age seconds, $2 batch
SELECT b.sha256 FROM drover.blobs b
WHERE b.created_at <= now() - make_interval(secs => $1::bigint)
  AND NOT EXISTS (SELECT 1 FROM drover.uploads u WHERE u.sha256 = b.sha256)
  AND NOT EXISTS (SELECT 1 FROM drover.artifacts a WHERE a.sha256 = b.sha256)
LIMIT $2;
