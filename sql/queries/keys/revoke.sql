-- keys/revoke: revokes a key (once: the first time is kept). With $2 set,
-- only a key of that app (an app admin revoking its own app's keys).
-- $1 id, $2 app (NULL: any key)
UPDATE drover.api_keys
SET revoked_at = coalesce(revoked_at, now())
WHERE id = $1::bigint AND ($2::text IS NULL OR app = $2)
RETURNING id, app, role::text, prefix, name, created_at, revoked_at, last_used_at;
