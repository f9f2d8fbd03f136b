-- migrate:up
-- Long-polling (api/long_poll.hpp) waits for a job's status, progress or log
-- lines to change, and is told on channel drover_job_changes by
-- statement-level triggers on drover.jobs (UPDATE) and drover.job_logs
-- (INSERT): one notification per statement, never one per row, naming the
-- changed job ids. So every path that changes a job — the worker's claims,
-- outcomes, progress and log lines, the API's cancel and retry, the
-- sweeper's rescues, an operator's UPDATE by hand — is covered without code
-- of its own.
--
-- Only jobs someone waits on are told. A NOTIFY is not free for the one who
-- sends it: its commit takes a database-wide lock (notifications queue in
-- commit order), and it wakes every backend that LISTENs in the database —
-- each worker's listener runs a small transaction to read it (measured: the
-- commits of bench/run throughput_noop went from 4,244 to 12,187 when every
-- round notified). With nobody waiting, a worker's statement costs the
-- trigger's call and one look at an empty table.
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

-- Payload: the changed job ids that someone waits on, comma-separated; "*"
-- when they would not fit in a notification (8000 bytes): listeners then look
-- at every job they wait on. Updates that change none of status, attempt or
-- progress (heartbeats, lease extensions, run_at) notify nothing.
CREATE FUNCTION drover.notify_job_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    ids text;
BEGIN
    -- Nobody waits: the common case, and the one that must cost nothing. This
    -- read also takes the lock drover.watch_jobs orders itself with.
    PERFORM 1 FROM drover.job_waiters LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT string_agg(n.id::text, ',') INTO ids
        FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE (n.status IS DISTINCT FROM o.status
               OR n.attempt IS DISTINCT FROM o.attempt
               OR n.progress_percent IS DISTINCT FROM o.progress_percent
               OR n.progress_message IS DISTINCT FROM o.progress_message)
          AND EXISTS (SELECT 1 FROM drover.job_waiters AS w WHERE w.job_id = n.id);
    ELSE  -- INSERT INTO job_logs
        SELECT string_agg(DISTINCT n.job_id::text, ',') INTO ids
        FROM new_rows AS n
        WHERE EXISTS (SELECT 1 FROM drover.job_waiters AS w WHERE w.job_id = n.job_id);
    END IF;
    IF ids IS NOT NULL THEN
        PERFORM pg_notify('drover_job_changes', CASE WHEN octet_length(ids) < 7990 THEN ids ELSE '*' END);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_notify_changed AFTER UPDATE ON drover.jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION drover.notify_job_changes();

CREATE TRIGGER job_logs_notify_inserted AFTER INSERT ON drover.job_logs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION drover.notify_job_changes();

-- migrate:down
DROP TRIGGER job_logs_notify_inserted ON drover.job_logs;
DROP TRIGGER jobs_notify_changed ON drover.jobs;
DROP FUNCTION drover.notify_job_changes();
DROP FUNCTION drover.watch_jobs(bigint[]);
DROP TABLE drover.job_waiters;
