-- migrate:up
-- Apps (tenants) and their API keys. Every job already names its app
-- (drover.jobs.app, default 'default'); an app is now a row with its limits.
CREATE TABLE drover.apps (
    name                text PRIMARY KEY,
    -- Most jobs of the app that may be pending or running at once; NULL:
    -- no limit. Held by drover.check_app_limits() at every insert, so across
    -- API processes and for drover.enqueue() from SQL alike.
    max_unfinished_jobs integer,
    -- Requests per second one key of the app may make to one API process
    -- (a token bucket in each process, burst = one second's worth); NULL: no limit.
    rate_limit_per_s    integer,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT apps_name_valid CHECK (name ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    CONSTRAINT apps_max_unfinished_range CHECK (max_unfinished_jobs IS NULL OR max_unfinished_jobs >= 0),
    CONSTRAINT apps_rate_limit_range CHECK (rate_limit_per_s IS NULL OR rate_limit_per_s > 0)
);

-- The app every job had until now, and any other app a job already names.
INSERT INTO drover.apps (name) VALUES ('default');
INSERT INTO drover.apps (name) SELECT DISTINCT app FROM drover.jobs ON CONFLICT DO NOTHING;

CREATE TYPE drover.key_role AS ENUM ('read', 'submit', 'admin', 'operator');

-- An API key is shown once, when it is made, and stored only as the SHA-256
-- of the whole key. A key reads "<prefix>_<secret>": the prefix
-- ("drv_<16 hex>" for app keys, "drvop_<16 hex>" for operator keys) is
-- random, unique and not secret; it finds the row (one index lookup) and lets
-- a leaked key be recognised, and the code compares the hash in constant time.
-- Operator keys belong to no app: they open the admin listener only.
CREATE TABLE drover.api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app          text REFERENCES drover.apps (name),
    role         drover.key_role NOT NULL,
    prefix       text NOT NULL UNIQUE,
    hash         bytea NOT NULL,
    name         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    -- Refreshed at most once a minute per key and API process, not per request.
    last_used_at timestamptz,
    CONSTRAINT api_keys_operator_iff_no_app CHECK ((role = 'operator') = (app IS NULL)),
    CONSTRAINT api_keys_hash_sha256 CHECK (octet_length(hash) = 32),
    CONSTRAINT api_keys_prefix_valid CHECK (prefix ~ '^drv(op)?_[0-9a-f]{16}$'),
    CONSTRAINT api_keys_name_length CHECK (length(name) <= 200)
);
CREATE INDEX api_keys_by_app ON drover.api_keys (app, id);

-- Counting an app's unfinished jobs under its limit: its pending jobs through
-- this index, its running ones by scanning the running rows
-- (jobs_running_lease), which are few. Partial on pending only, like
-- jobs_claimable_by_kind: a claim writes a 'running' tuple, so this index
-- costs an entry at insert, not at claim or completion (see migration
-- 20261123000003 for what an index on running rows costs every claim).
CREATE INDEX jobs_pending_by_app ON drover.jobs (app) WHERE status = 'pending';

-- Raises DR429 (the API answers 429) when `app_name` has more unfinished jobs
-- than its max_unfinished_jobs; apps without a limit cost one index lookup
-- and no lock. A limited app is locked for the rest of the transaction (an
-- advisory lock: no row write) before its unfinished jobs are counted, so
-- two transactions cannot both take the last place; the count is a new
-- statement, so it sees what the lock's previous holder committed (READ
-- COMMITTED, the default). Call it after the change that adds jobs.
CREATE FUNCTION drover.check_app_room(app_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    max_jobs integer;
    n bigint;
BEGIN
    SELECT max_unfinished_jobs INTO max_jobs FROM drover.apps WHERE name = app_name;
    IF max_jobs IS NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(1684107884, hashtext(app_name));  -- 1684107884: 'drol' ("drover limit")
    SELECT (SELECT count(*) FROM drover.jobs WHERE app = app_name AND status = 'pending')
         + (SELECT count(*) FROM drover.jobs WHERE app = app_name AND status = 'running')
    INTO n;
    IF n > max_jobs THEN
        RAISE EXCEPTION 'app % has reached its limit of % unfinished jobs', app_name, max_jobs
            USING ERRCODE = 'DR429';
    END IF;
END;
$$;

-- Per insert statement: every app named by the new rows must exist (23503;
-- cheaper than a foreign key, which would lock the app's row per insert), and
-- none may pass its max_unfinished_jobs.
CREATE FUNCTION drover.check_app_limits() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    FOR a IN
        SELECT i.app, p.name IS NOT NULL AS known
        FROM (SELECT DISTINCT app FROM inserted WHERE status IN ('pending', 'running')) AS i
        LEFT JOIN drover.apps AS p ON p.name = i.app
    LOOP
        IF NOT a.known THEN
            RAISE EXCEPTION 'no such app: %', a.app USING ERRCODE = 'foreign_key_violation';
        END IF;
        PERFORM drover.check_app_room(a.app);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_check_app_limits
    AFTER INSERT ON drover.jobs
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION drover.check_app_limits();

-- GET /v1/jobs: an app's jobs newest first, keyset-paged (jobs/list.sql).
-- Not partial, so it costs an entry at insert and at each status change (a
-- status change is never a HOT update: status is in the partial indexes'
-- predicates). Measured: a loop of claims and completions of 50 jobs over
-- 20,000 jobs wrote 1,057 WAL bytes per job with it, 878 without (+20 %).
-- Without it the listing walks jobs_pkey backwards: still as cheap on page
-- 1,000 as on page 1, but each page of an app costs ~1/(its share of the
-- jobs) rows.
CREATE INDEX jobs_by_app_newest ON drover.jobs (app, id DESC);

-- migrate:down
DROP INDEX drover.jobs_by_app_newest;
DROP TRIGGER jobs_check_app_limits ON drover.jobs;
DROP FUNCTION drover.check_app_limits();
DROP FUNCTION drover.check_app_room(text);
DROP INDEX drover.jobs_pending_by_app;
DROP TABLE drover.api_keys;
DROP TYPE drover.key_role;
DROP TABLE drover.apps;
