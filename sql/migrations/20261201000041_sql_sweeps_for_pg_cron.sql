-- migrate:up
-- The deciding half of the storage sweeps that need no file work of their
-- own, as one SQL function, for schedulers that only speak SQL (pg_cron;
-- docs/storage.md, "From pg_cron"). Same lock (namespace 1685221239, the
-- sweep's key), same statements as core/sweeps/storage_sweeps.cpp: records
-- are deleted, blob rows nothing names any more are deleted and their files
-- queued in drover.storage_deletions, in the caller's transaction. Removing
-- the queued files (and expired sessions' part folders) is left to the next
-- `drover sweep` or worker sweeper run, which works the queue off first.
-- Returns {"ran", "records", "blobs"}; "ran": false when another runner
-- holds the sweep's lock.
CREATE FUNCTION drover.sweep_decide(sweep text, batch integer DEFAULT 1000, upload_grace_s bigint DEFAULT 86400)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    key integer := CASE sweep WHEN 'artifacts' THEN 1 WHEN 'uploads' THEN 2 WHEN 'sessions' THEN 3 END;
    touched text[] := '{}';
    records bigint := 0;
    blobs bigint := 0;
BEGIN
    IF key IS NULL THEN
        RAISE EXCEPTION 'drover.sweep_decide: no SQL sweep named %', sweep
            USING HINT = 'artifacts, uploads or sessions', ERRCODE = '22023';
    END IF;
    IF NOT pg_try_advisory_xact_lock(1685221239, key) THEN
        RETURN jsonb_build_object('ran', false, 'records', 0, 'blobs', 0);
    END IF;
    IF sweep = 'artifacts' THEN
        WITH gone AS (
            DELETE FROM drover.artifacts
            WHERE id IN (SELECT id FROM drover.artifacts WHERE expires_at <= now() ORDER BY expires_at LIMIT batch)
            RETURNING sha256
        )
        SELECT coalesce(array_agg(sha256), '{}'), count(*) INTO touched, records FROM gone;
    ELSIF sweep = 'uploads' THEN
        WITH gone AS (
            DELETE FROM drover.uploads u
            WHERE u.id IN (
                SELECT c.id FROM drover.uploads c
                WHERE NOT c.whitelisted
                  AND c.last_used_at <= now() - make_interval(secs => upload_grace_s)
                  AND NOT EXISTS (SELECT 1 FROM drover.jobs j
                                  WHERE j.upload_id = c.id AND j.status IN ('pending', 'running'))
                ORDER BY c.last_used_at LIMIT batch)
            RETURNING u.sha256
        )
        SELECT coalesce(array_agg(sha256), '{}'), count(*) INTO touched, records FROM gone;
    ELSE
        WITH gone AS (
            DELETE FROM drover.upload_sessions
            WHERE id IN (SELECT id FROM drover.upload_sessions WHERE expires_at <= now() ORDER BY expires_at LIMIT batch)
            RETURNING id
        )
        SELECT count(*) INTO records FROM gone;
    END IF;
    IF cardinality(touched) > 0 THEN
        WITH gone AS (
            DELETE FROM drover.blobs b
            WHERE b.sha256 = ANY(touched)
              AND NOT EXISTS (SELECT 1 FROM drover.uploads u WHERE u.sha256 = b.sha256)
              AND NOT EXISTS (SELECT 1 FROM drover.artifacts a WHERE a.sha256 = b.sha256)
            RETURNING b.sha256
        ), queued AS (
            INSERT INTO drover.storage_deletions (sha256)
            SELECT sha256 FROM gone
            ON CONFLICT (sha256) DO NOTHING
            RETURNING sha256
        )
        SELECT count(*) INTO blobs FROM queued;
    END IF;
    RETURN jsonb_build_object('ran', true, 'records', records, 'blobs', blobs);
END
$$;

-- migrate:down
DROP FUNCTION drover.sweep_decide(text, integer, bigint);
