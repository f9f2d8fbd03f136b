-- keys/find_by_prefix: the authentication lookup, one unique-index probe per
-- key and API process per cache period (see api/auth/authenticator.hpp). The
-- caller compares the hash in constant time. Revoked keys come back too, so
-- that the caller can tell them from unknown ones in its log.
-- $1 prefix
SELECT k.id, k.app, k.role::text AS role, encode(k.hash, 'hex') AS hash, k.revoked_at IS NOT NULL AS revoked,
       a.rate_limit_per_s
FROM drover.api_keys AS k
LEFT JOIN drover.apps AS a ON a.name = k.app
WHERE k.prefix = $1;
