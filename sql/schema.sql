\restrict dbmate

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: drover; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA drover;


--
-- Name: job_status; Type: TYPE; Schema: drover; Owner: -
--

CREATE TYPE drover.job_status AS ENUM (
    'pending',
    'running',
    'succeeded',
    'failed',
    'cancelled'
);


--
-- Name: key_role; Type: TYPE; Schema: drover; Owner: -
--

CREATE TYPE drover.key_role AS ENUM (
    'read',
    'submit',
    'admin',
    'operator'
);


--
-- Name: append_error(jsonb, integer, timestamp with time zone, text); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.append_error(errors jsonb, attempt integer, at timestamp with time zone, error text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT coalesce(jsonb_agg(e.value ORDER BY e.n), '[]')
    FROM (
        SELECT value, n
        FROM jsonb_array_elements(errors || jsonb_build_array(
                 jsonb_build_object('attempt', attempt, 'at', at, 'error', error)))
             WITH ORDINALITY AS t(value, n)
        ORDER BY n DESC
        LIMIT 20
    ) AS e;
$$;


--
-- Name: check_app_limits(); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.check_app_limits() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: check_app_room(text); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.check_app_room(app_name text) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: jobs; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.jobs (
    id bigint NOT NULL,
    app text DEFAULT 'default'::text NOT NULL,
    kind text NOT NULL,
    queue text DEFAULT 'default'::text NOT NULL,
    priority smallint DEFAULT 0 NOT NULL,
    args jsonb DEFAULT '{}'::jsonb NOT NULL,
    status drover.job_status DEFAULT 'pending'::drover.job_status NOT NULL,
    attempt integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 25 NOT NULL,
    run_at timestamp with time zone DEFAULT now() NOT NULL,
    timeout_s integer,
    unique_key text,
    lease_owner text,
    lease_expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    progress_percent smallint,
    progress_message text,
    result jsonb,
    last_error text,
    errors jsonb DEFAULT '[]'::jsonb NOT NULL,
    cancel_requested_at timestamp with time zone,
    upload_id bigint,
    CONSTRAINT jobs_app_valid CHECK ((((length(app) >= 1) AND (length(app) <= 64)) AND (app !~ '[^A-Za-z0-9_.:-]'::text))),
    CONSTRAINT jobs_args_object CHECK ((jsonb_typeof(args) = 'object'::text)),
    CONSTRAINT jobs_attempt_range CHECK (((attempt >= 0) AND (attempt <= max_attempts))),
    CONSTRAINT jobs_errors_array CHECK ((jsonb_typeof(errors) = 'array'::text)),
    CONSTRAINT jobs_finished_iff_final CHECK (((status = ANY (ARRAY['succeeded'::drover.job_status, 'failed'::drover.job_status, 'cancelled'::drover.job_status])) = (finished_at IS NOT NULL))),
    CONSTRAINT jobs_kind_valid CHECK ((((length(kind) >= 1) AND (length(kind) <= 128)) AND (kind !~ '[^A-Za-z0-9_.:-]'::text))),
    CONSTRAINT jobs_lease_iff_running CHECK (((status = 'running'::drover.job_status) = ((lease_owner IS NOT NULL) AND (lease_expires_at IS NOT NULL)))),
    CONSTRAINT jobs_max_attempts_positive CHECK (((max_attempts >= 1) AND (max_attempts <= 1000))),
    CONSTRAINT jobs_progress_range CHECK (((progress_percent IS NULL) OR ((progress_percent >= 0) AND (progress_percent <= 100)))),
    CONSTRAINT jobs_queue_valid CHECK ((((length(queue) >= 1) AND (length(queue) <= 64)) AND (queue !~ '[^A-Za-z0-9_.:-]'::text))),
    CONSTRAINT jobs_running_has_started CHECK (((status <> 'running'::drover.job_status) OR (started_at IS NOT NULL))),
    CONSTRAINT jobs_timeout_positive CHECK (((timeout_s IS NULL) OR (timeout_s > 0))),
    CONSTRAINT jobs_unique_key_length CHECK (((unique_key IS NULL) OR ((length(unique_key) >= 1) AND (length(unique_key) <= 256))))
)
WITH (fillfactor='50');


--
-- Name: enqueue(text, jsonb, text, smallint, timestamp with time zone, integer, integer, text, text); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.enqueue(kind text, args jsonb DEFAULT '{}'::jsonb, queue text DEFAULT 'default'::text, priority smallint DEFAULT 0, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, max_attempts integer DEFAULT 25, timeout_s integer DEFAULT NULL::integer, unique_key text DEFAULT NULL::text, app text DEFAULT 'default'::text) RETURNS drover.jobs
    LANGUAGE sql
    AS $$
    SELECT e.job FROM drover.enqueue_job(kind, args, queue, priority, run_at, max_attempts,
                                         timeout_s, unique_key, app) AS e;
$$;


--
-- Name: enqueue_job(text, jsonb, text, smallint, timestamp with time zone, integer, integer, text, text); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.enqueue_job(kind text, args jsonb DEFAULT '{}'::jsonb, queue text DEFAULT 'default'::text, priority smallint DEFAULT 0, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, max_attempts integer DEFAULT 25, timeout_s integer DEFAULT NULL::integer, unique_key text DEFAULT NULL::text, app text DEFAULT 'default'::text, OUT job drover.jobs, OUT created boolean) RETURNS record
    LANGUAGE plpgsql
    AS $$
#variable_conflict use_column
BEGIN
    LOOP
        INSERT INTO drover.jobs AS j (app, kind, queue, priority, args, max_attempts, run_at, timeout_s, unique_key)
        VALUES (enqueue_job.app, enqueue_job.kind, enqueue_job.queue, enqueue_job.priority,
                coalesce(enqueue_job.args, '{}'), enqueue_job.max_attempts,
                coalesce(enqueue_job.run_at, now()), enqueue_job.timeout_s, enqueue_job.unique_key)
        ON CONFLICT (app, unique_key) WHERE unique_key IS NOT NULL AND status IN ('pending', 'running')
        DO NOTHING
        RETURNING * INTO job;
        IF FOUND THEN
            created := true;
            RETURN;
        END IF;
        SELECT * INTO job FROM drover.jobs AS j
        WHERE j.app = enqueue_job.app AND j.unique_key = enqueue_job.unique_key
          AND j.status IN ('pending', 'running');
        IF FOUND THEN
            created := false;
            RETURN;
        END IF;
        -- The conflicting job finished in between: the insert can go ahead now.
    END LOOP;
END;
$$;


--
-- Name: job_listing_add(); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.job_listing_add() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO drover.job_listing (app, id) SELECT app, id FROM added;
    RETURN NULL;
END;
$$;


--
-- Name: job_listing_clear(); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.job_listing_clear() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    TRUNCATE drover.job_listing;
    RETURN NULL;
END;
$$;


--
-- Name: job_listing_remove(); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.job_listing_remove() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM drover.job_listing AS l USING removed AS r WHERE l.app = r.app AND l.id = r.id;
    RETURN NULL;
END;
$$;


--
-- Name: notify_job_changes(); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.notify_job_changes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- Nobody waits: the common case, and the one that must cost nothing. This
    -- read also takes the lock drover.watch_jobs orders itself with.
    PERFORM 1 FROM drover.job_waiters LIMIT 1;
    IF FOUND THEN
        PERFORM pg_notify('drover_job_changes', '*');
    END IF;
    RETURN NULL;
END;
$$;


--
-- Name: notify_jobs_inserted(); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.notify_jobs_inserted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    q record;
BEGIN
    FOR q IN SELECT queue, count(*) AS n FROM inserted WHERE status = 'pending' GROUP BY queue LOOP
        PERFORM pg_notify('drover_worker_' || w.listen_pid, q.queue)
        FROM (
            SELECT listen_pid,
                   coalesce(sum(idle_slots) OVER (ORDER BY random() ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                            0) AS covered
            FROM drover.workers
            WHERE q.queue = ANY (queues) AND idle_slots > 0
              AND listen_pid IN (SELECT pid FROM pg_stat_get_activity(NULL))
        ) AS w
        WHERE w.covered < q.n;
        IF NOT FOUND THEN
            PERFORM pg_notify('drover_jobs', q.queue);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;


--
-- Name: sweep_decide(text, integer, bigint); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.sweep_decide(sweep text, batch integer DEFAULT 1000, upload_grace_s bigint DEFAULT 86400) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: watch_jobs(bigint[]); Type: FUNCTION; Schema: drover; Owner: -
--

CREATE FUNCTION drover.watch_jobs(ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    LOCK TABLE drover.job_waiters IN ACCESS EXCLUSIVE MODE;
    INSERT INTO drover.job_waiters (job_id, listen_pid)
    SELECT DISTINCT unnest(ids), pg_backend_pid()
    ON CONFLICT DO NOTHING;
END;
$$;


--
-- Name: api_keys; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.api_keys (
    id bigint NOT NULL,
    app text,
    role drover.key_role NOT NULL,
    prefix text NOT NULL,
    hash bytea NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone,
    CONSTRAINT api_keys_hash_sha256 CHECK ((octet_length(hash) = 32)),
    CONSTRAINT api_keys_name_length CHECK ((length(name) <= 200)),
    CONSTRAINT api_keys_operator_iff_no_app CHECK (((role = 'operator'::drover.key_role) = (app IS NULL))),
    CONSTRAINT api_keys_prefix_valid CHECK ((prefix ~ '^drv(op)?_[0-9a-f]{16}$'::text))
);


--
-- Name: api_keys_id_seq; Type: SEQUENCE; Schema: drover; Owner: -
--

ALTER TABLE drover.api_keys ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME drover.api_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: apps; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.apps (
    name text NOT NULL,
    max_unfinished_jobs integer,
    rate_limit_per_s integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT apps_max_unfinished_range CHECK (((max_unfinished_jobs IS NULL) OR (max_unfinished_jobs >= 0))),
    CONSTRAINT apps_name_valid CHECK ((name ~ '^[A-Za-z0-9_.:-]{1,64}$'::text)),
    CONSTRAINT apps_rate_limit_range CHECK (((rate_limit_per_s IS NULL) OR (rate_limit_per_s > 0)))
);


--
-- Name: artifacts; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.artifacts (
    id bigint NOT NULL,
    job_id bigint NOT NULL,
    app text NOT NULL,
    attempt integer NOT NULL,
    name text NOT NULL,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    media_type text DEFAULT 'application/octet-stream'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT artifacts_name_valid CHECK ((((length(name) >= 1) AND (length(name) <= 1024)) AND (name !~ '(^/|\\|:|(^|/)\.\.?(/|$))'::text))),
    CONSTRAINT artifacts_size_range CHECK ((size >= 0))
);


--
-- Name: artifacts_id_seq; Type: SEQUENCE; Schema: drover; Owner: -
--

ALTER TABLE drover.artifacts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME drover.artifacts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: blobs; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.blobs (
    sha256 text NOT NULL,
    size bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT blobs_sha256_hex CHECK ((sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT blobs_size_range CHECK ((size >= 0))
);


--
-- Name: idempotency_keys; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.idempotency_keys (
    app text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    job_id bigint,
    status_code smallint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT idempotency_keys_key_check CHECK (((length(key) >= 1) AND (length(key) <= 255)))
);


--
-- Name: job_listing; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.job_listing (
    app text NOT NULL,
    id bigint NOT NULL
);


--
-- Name: job_logs; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.job_logs (
    id bigint NOT NULL,
    job_id bigint NOT NULL,
    attempt integer NOT NULL,
    stream text NOT NULL,
    at timestamp with time zone NOT NULL,
    line text NOT NULL,
    CONSTRAINT job_logs_stream_valid CHECK ((stream = ANY (ARRAY['stdout'::text, 'stderr'::text, 'runner'::text])))
);


--
-- Name: job_logs_id_seq; Type: SEQUENCE; Schema: drover; Owner: -
--

ALTER TABLE drover.job_logs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME drover.job_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: job_waiters; Type: TABLE; Schema: drover; Owner: -
--

CREATE UNLOGGED TABLE drover.job_waiters (
    job_id bigint NOT NULL,
    listen_pid integer NOT NULL
);


--
-- Name: jobs_id_seq; Type: SEQUENCE; Schema: drover; Owner: -
--

ALTER TABLE drover.jobs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME drover.jobs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: kind_limits; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.kind_limits (
    kind text NOT NULL,
    concurrency integer NOT NULL,
    source text DEFAULT 'operator'::text NOT NULL,
    CONSTRAINT kind_limits_concurrency_check CHECK ((concurrency >= 0)),
    CONSTRAINT kind_limits_source_check CHECK ((source = ANY (ARRAY['kinds_file'::text, 'operator'::text])))
);


--
-- Name: queue_limits; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.queue_limits (
    queue text NOT NULL,
    concurrency integer NOT NULL,
    source text DEFAULT 'operator'::text NOT NULL,
    CONSTRAINT queue_limits_concurrency_check CHECK ((concurrency >= 0)),
    CONSTRAINT queue_limits_source_check CHECK ((source = ANY (ARRAY['kinds_file'::text, 'operator'::text])))
);


--
-- Name: storage_deletions; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.storage_deletions (
    sha256 text NOT NULL,
    queued_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: upload_parts; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.upload_parts (
    session_id bigint NOT NULL,
    number integer NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    data_offset bigint,
    CONSTRAINT upload_parts_data_offset_range CHECK (((data_offset IS NULL) OR (data_offset >= 0))),
    CONSTRAINT upload_parts_number_range CHECK (((number >= 1) AND (number <= 10000))),
    CONSTRAINT upload_parts_sha256_hex CHECK ((sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT upload_parts_size_range CHECK ((size >= 0))
);


--
-- Name: upload_sessions; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.upload_sessions (
    id bigint NOT NULL,
    app text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT upload_sessions_expiry_after_creation CHECK ((expires_at > created_at))
);


--
-- Name: upload_sessions_id_seq; Type: SEQUENCE; Schema: drover; Owner: -
--

ALTER TABLE drover.upload_sessions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME drover.upload_sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: uploads; Type: TABLE; Schema: drover; Owner: -
--

CREATE TABLE drover.uploads (
    id bigint NOT NULL,
    app text NOT NULL,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    media_type text DEFAULT 'application/zip'::text NOT NULL,
    entries bigint NOT NULL,
    uncompressed_size bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone DEFAULT now() NOT NULL,
    whitelisted boolean DEFAULT false NOT NULL,
    protected boolean DEFAULT false NOT NULL,
    expires_at timestamp with time zone,
    CONSTRAINT uploads_protected_is_whitelisted CHECK (((NOT protected) OR whitelisted)),
    CONSTRAINT uploads_size_range CHECK (((size >= 0) AND (entries >= 0) AND (uncompressed_size >= 0)))
);


--
-- Name: uploads_id_seq; Type: SEQUENCE; Schema: drover; Owner: -
--

ALTER TABLE drover.uploads ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME drover.uploads_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: workers; Type: TABLE; Schema: drover; Owner: -
--

CREATE UNLOGGED TABLE drover.workers (
    listen_pid integer NOT NULL,
    worker_id text NOT NULL,
    queues text[] NOT NULL,
    idle_slots integer NOT NULL,
    registered_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT workers_idle_slots_check CHECK ((idle_slots >= 0))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_prefix_key; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.api_keys
    ADD CONSTRAINT api_keys_prefix_key UNIQUE (prefix);


--
-- Name: apps apps_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.apps
    ADD CONSTRAINT apps_pkey PRIMARY KEY (name);


--
-- Name: artifacts artifacts_one_per_name; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.artifacts
    ADD CONSTRAINT artifacts_one_per_name UNIQUE (job_id, name);


--
-- Name: artifacts artifacts_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.artifacts
    ADD CONSTRAINT artifacts_pkey PRIMARY KEY (id);


--
-- Name: blobs blobs_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.blobs
    ADD CONSTRAINT blobs_pkey PRIMARY KEY (sha256);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (app, key);


--
-- Name: job_listing job_listing_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.job_listing
    ADD CONSTRAINT job_listing_pkey PRIMARY KEY (app, id);


--
-- Name: job_logs job_logs_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.job_logs
    ADD CONSTRAINT job_logs_pkey PRIMARY KEY (id);


--
-- Name: job_waiters job_waiters_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.job_waiters
    ADD CONSTRAINT job_waiters_pkey PRIMARY KEY (job_id, listen_pid);


--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);


--
-- Name: kind_limits kind_limits_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.kind_limits
    ADD CONSTRAINT kind_limits_pkey PRIMARY KEY (kind);


--
-- Name: queue_limits queue_limits_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.queue_limits
    ADD CONSTRAINT queue_limits_pkey PRIMARY KEY (queue);


--
-- Name: storage_deletions storage_deletions_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.storage_deletions
    ADD CONSTRAINT storage_deletions_pkey PRIMARY KEY (sha256);


--
-- Name: upload_parts upload_parts_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.upload_parts
    ADD CONSTRAINT upload_parts_pkey PRIMARY KEY (session_id, number);


--
-- Name: upload_sessions upload_sessions_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.upload_sessions
    ADD CONSTRAINT upload_sessions_pkey PRIMARY KEY (id);


--
-- Name: uploads uploads_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.uploads
    ADD CONSTRAINT uploads_pkey PRIMARY KEY (id);


--
-- Name: workers workers_pkey; Type: CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (listen_pid);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: api_keys_by_app; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX api_keys_by_app ON drover.api_keys USING btree (app, id);


--
-- Name: artifacts_by_expiry; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX artifacts_by_expiry ON drover.artifacts USING btree (expires_at);


--
-- Name: artifacts_by_sha256; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX artifacts_by_sha256 ON drover.artifacts USING btree (sha256);


--
-- Name: blobs_by_last_use; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX blobs_by_last_use ON drover.blobs USING btree (last_used_at, sha256);


--
-- Name: idempotency_keys_expires_at; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX idempotency_keys_expires_at ON drover.idempotency_keys USING btree (expires_at);


--
-- Name: idempotency_keys_job_id; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX idempotency_keys_job_id ON drover.idempotency_keys USING btree (job_id);


--
-- Name: job_logs_by_job; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX job_logs_by_job ON drover.job_logs USING btree (job_id, id);


--
-- Name: jobs_by_upload; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX jobs_by_upload ON drover.jobs USING btree (upload_id) WHERE (upload_id IS NOT NULL);


--
-- Name: jobs_claimable; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX jobs_claimable ON drover.jobs USING btree (queue, ((- (priority)::integer)), run_at, id) WHERE (status = 'pending'::drover.job_status);


--
-- Name: jobs_claimable_by_kind; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX jobs_claimable_by_kind ON drover.jobs USING btree (kind, queue, priority DESC, run_at, id) WHERE (status = 'pending'::drover.job_status);


--
-- Name: jobs_pending_by_app; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX jobs_pending_by_app ON drover.jobs USING btree (app) WHERE (status = 'pending'::drover.job_status);


--
-- Name: jobs_running; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX jobs_running ON drover.jobs USING btree (lease_expires_at, queue) WHERE (status = 'running'::drover.job_status);


--
-- Name: jobs_unique_key_unfinished; Type: INDEX; Schema: drover; Owner: -
--

CREATE UNIQUE INDEX jobs_unique_key_unfinished ON drover.jobs USING btree (app, unique_key) WHERE ((unique_key IS NOT NULL) AND (status = ANY (ARRAY['pending'::drover.job_status, 'running'::drover.job_status])));


--
-- Name: upload_sessions_by_expiry; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX upload_sessions_by_expiry ON drover.upload_sessions USING btree (expires_at);


--
-- Name: uploads_by_app; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX uploads_by_app ON drover.uploads USING btree (app, id);


--
-- Name: uploads_by_last_use; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX uploads_by_last_use ON drover.uploads USING btree (last_used_at, id) WHERE (NOT whitelisted);


--
-- Name: uploads_by_sha256; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX uploads_by_sha256 ON drover.uploads USING btree (sha256);


--
-- Name: workers_by_worker_id; Type: INDEX; Schema: drover; Owner: -
--

CREATE INDEX workers_by_worker_id ON drover.workers USING btree (worker_id);


--
-- Name: job_logs job_logs_notify_inserted; Type: TRIGGER; Schema: drover; Owner: -
--

CREATE TRIGGER job_logs_notify_inserted AFTER INSERT ON drover.job_logs FOR EACH STATEMENT EXECUTE FUNCTION drover.notify_job_changes();


--
-- Name: jobs jobs_check_app_limits; Type: TRIGGER; Schema: drover; Owner: -
--

CREATE TRIGGER jobs_check_app_limits AFTER INSERT ON drover.jobs REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION drover.check_app_limits();


--
-- Name: jobs jobs_listing_add; Type: TRIGGER; Schema: drover; Owner: -
--

CREATE TRIGGER jobs_listing_add AFTER INSERT ON drover.jobs REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION drover.job_listing_add();


--
-- Name: jobs jobs_listing_clear; Type: TRIGGER; Schema: drover; Owner: -
--

CREATE TRIGGER jobs_listing_clear AFTER TRUNCATE ON drover.jobs FOR EACH STATEMENT EXECUTE FUNCTION drover.job_listing_clear();


--
-- Name: jobs jobs_listing_remove; Type: TRIGGER; Schema: drover; Owner: -
--

CREATE TRIGGER jobs_listing_remove AFTER DELETE ON drover.jobs REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION drover.job_listing_remove();


--
-- Name: jobs jobs_notify_changed; Type: TRIGGER; Schema: drover; Owner: -
--

CREATE TRIGGER jobs_notify_changed AFTER UPDATE ON drover.jobs FOR EACH STATEMENT EXECUTE FUNCTION drover.notify_job_changes();


--
-- Name: jobs jobs_notify_inserted; Type: TRIGGER; Schema: drover; Owner: -
--

CREATE TRIGGER jobs_notify_inserted AFTER INSERT ON drover.jobs REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION drover.notify_jobs_inserted();


--
-- Name: api_keys api_keys_app_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.api_keys
    ADD CONSTRAINT api_keys_app_fkey FOREIGN KEY (app) REFERENCES drover.apps(name);


--
-- Name: artifacts artifacts_job_id_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.artifacts
    ADD CONSTRAINT artifacts_job_id_fkey FOREIGN KEY (job_id) REFERENCES drover.jobs(id) ON DELETE CASCADE;


--
-- Name: artifacts artifacts_sha256_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.artifacts
    ADD CONSTRAINT artifacts_sha256_fkey FOREIGN KEY (sha256) REFERENCES drover.blobs(sha256);


--
-- Name: idempotency_keys idempotency_keys_job_id_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.idempotency_keys
    ADD CONSTRAINT idempotency_keys_job_id_fkey FOREIGN KEY (job_id) REFERENCES drover.jobs(id) ON DELETE CASCADE;


--
-- Name: jobs jobs_upload_id_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.jobs
    ADD CONSTRAINT jobs_upload_id_fkey FOREIGN KEY (upload_id) REFERENCES drover.uploads(id) ON DELETE SET NULL;


--
-- Name: upload_parts upload_parts_session_id_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.upload_parts
    ADD CONSTRAINT upload_parts_session_id_fkey FOREIGN KEY (session_id) REFERENCES drover.upload_sessions(id) ON DELETE CASCADE;


--
-- Name: upload_sessions upload_sessions_app_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.upload_sessions
    ADD CONSTRAINT upload_sessions_app_fkey FOREIGN KEY (app) REFERENCES drover.apps(name);


--
-- Name: uploads uploads_app_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.uploads
    ADD CONSTRAINT uploads_app_fkey FOREIGN KEY (app) REFERENCES drover.apps(name);


--
-- Name: uploads uploads_sha256_fkey; Type: FK CONSTRAINT; Schema: drover; Owner: -
--

ALTER TABLE ONLY drover.uploads
    ADD CONSTRAINT uploads_sha256_fkey FOREIGN KEY (sha256) REFERENCES drover.blobs(sha256);


--
-- PostgreSQL database dump complete
--

\unrestrict dbmate


--
-- Dbmate schema migrations
--

INSERT INTO public.schema_migrations (version) VALUES
    ('20261123000001'),
    ('20261123000002'),
    ('20261123000003'),
    ('20261123000004'),
    ('20261123000005'),
    ('20261123000006'),
    ('20261201000001'),
    ('20261201000010'),
    ('20261201000021'),
    ('20261201000030'),
    ('20261201000031'),
    ('20261201000032'),
    ('20261201000033'),
    ('20261201000034'),
    ('20261201000041'),
    ('20261201000050'),
    ('20261201001200'),
    ('20261201001300'),
    ('20261201002000'),
    ('20261202000100');
