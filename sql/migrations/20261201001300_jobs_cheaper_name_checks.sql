-- migrate:up
-- Cheaper name checks on drover.jobs (issue 12). Postgres evaluates every
-- CHECK constraint of a table on every UPDATE, whichever columns changed, and
-- a worker updates each job twice (claim, completion). perf of the server
-- during `bench/run throughput_noop` (200,000 noop jobs, claims of ~500):
-- the three checks `name ~ '^[A-Za-z0-9_.:-]{1,64}$'` were 33 % of the
-- server's CPU (a bounded repetition compiles to a large automaton, run on
-- every row). The same rule spelled as a length test plus a search for any
-- character outside the class costs a fraction of it (200,000 updates of a
-- bare table with the three checks: 1.49-1.86 s with the old spelling,
-- 0.56-0.73 s with this one, 0.44-0.61 s with no check at all).
-- Same names, same rule (length() counts characters, as the repetition did;
-- `$` in a Postgres regular expression matches only at the end of the
-- string), same SQLSTATE 23514 for a bad name.
-- Not done: moving the checks into domains (a domain's check runs only when
-- a value is assigned, so never on a claim or a completion) changes the
-- columns' type, and every prepared statement of a running Drover that
-- returns one of them then fails with "cached plan must not change result
-- type": this migration must run while the old version serves
-- (docs/operations.md). The columns keep their type; the table is scanned
-- once to validate the rows, not rewritten.
ALTER TABLE drover.jobs
    DROP CONSTRAINT jobs_app_valid,
    DROP CONSTRAINT jobs_kind_valid,
    DROP CONSTRAINT jobs_queue_valid,
    ADD CONSTRAINT jobs_app_valid CHECK (length(app) BETWEEN 1 AND 64 AND app !~ '[^A-Za-z0-9_.:-]'),
    ADD CONSTRAINT jobs_kind_valid CHECK (length(kind) BETWEEN 1 AND 128 AND kind !~ '[^A-Za-z0-9_.:-]'),
    ADD CONSTRAINT jobs_queue_valid CHECK (length(queue) BETWEEN 1 AND 64 AND queue !~ '[^A-Za-z0-9_.:-]');

-- migrate:down
ALTER TABLE drover.jobs
    DROP CONSTRAINT jobs_app_valid,
    DROP CONSTRAINT jobs_kind_valid,
    DROP CONSTRAINT jobs_queue_valid,
    ADD CONSTRAINT jobs_app_valid CHECK (app ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    ADD CONSTRAINT jobs_kind_valid CHECK (kind ~ '^[A-Za-z0-9_.:-]{1,128}$'),
    ADD CONSTRAINT jobs_queue_valid CHECK (queue ~ '^[A-Za-z0-9_.:-]{1,64}$');
