-- idempotency/claim: takes the key for this request. A row back: the key is
-- ours, go on and create the job. No row: the key was already used (a
-- concurrent request with the same key waits here until that one commits).
-- $1 app, $2 key, $3 request body, $4 seconds until the key expires
INSERT INTO drover.idempotency_keys (app, key, fingerprint, expires_at)
VALUES ($1, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'), now() + make_interval(secs => $4::integer))
ON CONFLICT (app, key) DO NOTHING
RETURNING true;
