-- keys/list: an app's keys (or, with $1 NULL, the operator keys), oldest
-- first; never the hash. $1 app
SELECT id, app, role::text, prefix, name, created_at, revoked_at, last_used_at
FROM drover.api_keys
WHERE app IS NOT DISTINCT FROM $1
ORDER BY id;
