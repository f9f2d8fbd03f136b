-- keys/create: stores a new key's prefix and SHA-256 (never the key itself).
-- $1 app (NULL for an operator key), $2 role, $3 prefix, $4 hash (hex), $5 name
INSERT INTO drover.api_keys (app, role, prefix, hash, name)
VALUES ($1, $2::drover.key_role, $3, decode($4, 'hex'), coalesce($5, ''))
RETURNING id, app, role::text, prefix, name, created_at, revoked_at, last_used_at;
