-- migrate:up
-- Waking only as many workers as there is work. Before, every insert
-- notified drover_jobs, and every idle worker of the queue woke and raced a
-- claim that all but one lost (bench/run latency_enqueue_to_start counted
-- 2 + 2 x idle workers statements per enqueued job).
--
-- Each worker registers its LISTEN connection here (workers/register.sql)
-- and listens on its own channel, drover_worker_<that backend's pid>. Every
-- claim records how many slots it left empty (jobs/claim.sql): a worker with
-- idle slots claims again only when woken or at its poll, while one whose
-- claim filled every slot claims again by itself as soon as a slot frees.
-- Unlogged: it is rebuilt by the workers as they (re)connect, and its
-- updates ride in every claim, so they should cost no WAL.
CREATE UNLOGGED TABLE drover.workers (
    listen_pid    integer PRIMARY KEY,
    worker_id     text NOT NULL,
    queues        text[] NOT NULL,
    idle_slots    integer NOT NULL CHECK (idle_slots >= 0),
    registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workers_by_worker_id ON drover.workers (worker_id);

-- Per statement and queue: notify idle workers of the queue, in random
-- order, until their idle slots cover the jobs inserted; a registration
-- whose backend is gone (a killed worker) is passed over. When no idle
-- worker is seen (all busy, or one is just going idle and its claim has not
-- committed yet), notify drover_jobs, which every worker listens on, as
-- before: a busy worker notes it and claims when a slot frees.
CREATE OR REPLACE FUNCTION drover.notify_jobs_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
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

-- migrate:down
CREATE OR REPLACE FUNCTION drover.notify_jobs_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('drover_jobs', q.queue)
    FROM (SELECT DISTINCT queue FROM inserted WHERE status = 'pending') AS q;
    RETURN NULL;
END;
$$;
DROP TABLE drover.workers;
