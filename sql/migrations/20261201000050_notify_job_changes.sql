-- migrate:up
-- Long-polling (api/long_poll.hpp) waits for a job's status, progress or log
-- lines to change, and is told on channel drover_job_changes by
-- statement-level triggers on drover.jobs (UPDATE) and drover.job_logs
-- (INSERT), one notification per statement, never one per row. So every
-- path that changes a job — the worker's claims, outcomes, progress and log
-- lines, the API's cancel and retry, the sweeper's rescues, an operator's
-- UPDATE by hand — is covered without code of its own.
--
-- Only while someone waits. A NOTIFY is not free for the one who sends it:
-- its commit takes a database-wide lock (notifications queue in commit
-- order), and it wakes every backend that LISTENs in the database — each
-- worker's listener runs a small transaction to read it (measured: the
-- commits of bench/run throughput_noop went from 4,244 to 12,187 when every
-- round notified). With nobody waiting, a statement costs the trigger's call
-- and one look at an empty table.
--
-- The payload is "*" (look at every job you wait on), not the changed ids:
-- naming them needs transition tables (REFERENCING OLD/NEW TABLE), whose
-- capture of every updated row cost ~120 bytes of WAL per job in bench/run
-- throughput_noop (1,216 against 1,093; nobody waiting), while this form
-- measured 1,093. The listener re-reads all its waits at most every 20 ms.
--
-- drover.job_waiters: the jobs each API process's LISTEN connection
-- (listen_pid) has requests parked on. UNLOGGED: it is only as true as the
-- connections that wrote it; a crash empties it and each API process writes
-- its own again when it reconnects (rows of connections that are gone are
-- dropped then, and meanwhile only cost a notification nobody reads).
CREATE UNLOGGED TABLE drover.job_waiters (
    job_id     bigint  NOT NULL,
    listen_pid integer NOT NULL,
    PRIMARY KEY (job_id, listen_pid)
);

-- No change may slip between a waiter's registration and its first look at
-- the job. A writer's trigger reads job_waiters before the writer commits: if
-- it read before the registration committed, it did not notify, and the
-- waiter's first look must see its change. The ACCESS EXCLUSIVE lock waits
-- for every transaction that read job_waiters (they hold ACCESS SHARE until
-- they end), so when this returns, every writer either has committed (the
-- look sees it) or reads job_waiters after (and sees the registration). The
-- lock lasts this statement's own transaction: a few milliseconds during
-- which workers' triggers wait.
CREATE FUNCTION drover.watch_jobs(ids bigint[]) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE drover.job_waiters IN ACCESS EXCLUSIVE MODE;
    INSERT INTO drover.job_waiters (job_id, listen_pid)
    SELECT DISTINCT unnest(ids), pg_backend_pid()
    ON CONFLICT DO NOTHING;
END;
$$;

CREATE FUNCTION drover.notify_job_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
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

CREATE TRIGGER jobs_notify_changed AFTER UPDATE ON drover.jobs
    FOR EACH STATEMENT EXECUTE FUNCTION drover.notify_job_changes();

CREATE TRIGGER job_logs_notify_inserted AFTER INSERT ON drover.job_logs
    FOR EACH STATEMENT EXECUTE FUNCTION drover.notify_job_changes();

-- migrate:down
DROP TRIGGER job_logs_notify_inserted ON drover.job_logs;
DROP TRIGGER jobs_notify_changed ON drover.jobs;
DROP FUNCTION drover.notify_job_changes();
DROP FUNCTION drover.watch_jobs(bigint[]);
DROP TABLE drover.job_waiters;
