-- idempotency/forget_expired: an expired key is free again. Also removes up to
-- 100 other expired keys, so the table stays the size of one expiry period
-- without a sweep of its own. $1 app, $2 key
DELETE FROM drover.idempotency_keys
WHERE expires_at <= now()
  AND ((app = $1 AND key = $2)
       OR (app, key) IN (SELECT app, key FROM drover.idempotency_keys WHERE expires_at <= now() LIMIT 100));
