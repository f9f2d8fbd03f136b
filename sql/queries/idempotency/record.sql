-- idempotency/record: the answer a key's request got, for its retries.
-- $1 app, $2 key, $3 job id, $4 HTTP status
UPDATE drover.idempotency_keys SET job_id = $3, status_code = $4::smallint
WHERE app = $1 AND key = $2;
