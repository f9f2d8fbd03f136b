-- idempotency/get: what an earlier request with this key did, and whether it
-- sent the same body. $1 app, $2 key, $3 request body
SELECT fingerprint = encode(sha256(convert_to($3, 'UTF8')), 'hex') AS same_request, job_id, status_code,
       expires_at
FROM drover.idempotency_keys
WHERE app = $1 AND key = $2;
