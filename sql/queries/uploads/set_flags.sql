-- uploads/set_flags: whitelist or protect an upload (operators only); NULL
-- leaves a flag as it is. Protected implies whitelisted (a CHECK): unsetting
-- whitelisted on a protected upload fails with 23514.
-- $1 id, $2 whitelisted, $3 protected
UPDATE drover.uploads
SET whitelisted = coalesce($2::boolean, whitelisted), protected = coalesce($3::boolean, protected)
WHERE id = $1
RETURNING id;
