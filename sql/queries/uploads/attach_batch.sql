-- uploads/attach_batch: the jobs of a batch just inserted name uploads of
-- their own app (same transaction as the insert). Returns the ordinal (1-based,
-- in the arrays' order) of every job attached; a job whose upload does not
-- exist or is another app's is missing, and the caller rolls the batch back.
-- $1 job ids, $2 upload ids (NULL: that job names none)
WITH wanted AS (
    SELECT b.job_id, b.upload_id, b.n
    FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS b(job_id, upload_id, n)
    WHERE b.upload_id IS NOT NULL
), attached AS (
    UPDATE drover.jobs j
    SET upload_id = u.id
    FROM wanted w JOIN drover.uploads u ON u.id = w.upload_id
    WHERE j.id = w.job_id AND u.app = j.app
    RETURNING w.n, u.id
), touched AS (
    UPDATE drover.uploads u SET last_used_at = now()
    WHERE u.id IN (SELECT id FROM attached)
)
SELECT n FROM attached ORDER BY n;
