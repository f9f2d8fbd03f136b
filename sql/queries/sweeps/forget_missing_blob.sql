-- sweeps/forget_missing_blob: a blob whose file is gone from disk (damage from
-- outside: Drover commits a row only once its file is in place) is of no use:
-- its records and its row go. Returns the records deleted.
-- $1 sha256
WITH ups AS (
    DELETE FROM drover.uploads WHERE sha256 = $1 RETURNING 1
), arts AS (
    DELETE FROM drover.artifacts WHERE sha256 = $1 RETURNING 1
), blob AS (
    DELETE FROM drover.blobs WHERE sha256 = $1 RETURNING 1
)
SELECT (SELECT count(*) FROM ups) + (SELECT count(*) FROM arts) AS records;
