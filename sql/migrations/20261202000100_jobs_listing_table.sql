-- migrate:up
-- The listing of an app's jobs, newest first (GET /v1/jobs), moves from an
-- index on drover.jobs to a table of its own that is written once per job
-- (issue 12). A status change is never a HOT update (status is in the partial
-- indexes' predicates), so every claim and every outcome added an entry to
-- each full index of drover.jobs, jobs_by_app_newest included, although app
-- and id never change. Measured with bench/run throughput_noop (quiet): with
-- that index dropped, 96,904 jobs/s, 18.2 µs of Postgres CPU and 764 B of WAL
-- per job, against 76,167, 23.3 µs and 952 B with it; with this table, in one
-- pair of runs: 45,115 → 60,359 jobs/s, 954 → 773 B of WAL per job, while
-- bench/listing_index_wal measured 51 B more at the enqueue (657 against 606)
-- and 1,000-row batch inserts no slower. drover.job_listing
-- holds (app, id) once, written when the job is inserted and removed when it
-- is deleted: the enqueue pays one row and one index entry, the claim and the
-- outcome pay nothing for the listing.
--
-- Kept by statement-level triggers, not by the queries that insert: every way
-- in (the API, an operator's INSERT, an import) is covered, and a statement
-- of 1,000 jobs writes its 1,000 rows in one INSERT … SELECT. No foreign key:
-- its checks run once per row; the delete trigger removes a statement's rows
-- in one statement. Lists join it to drover.jobs on (id, app).
CREATE TABLE drover.job_listing (
    app text   NOT NULL,
    id  bigint NOT NULL,
    PRIMARY KEY (app, id)
);

CREATE FUNCTION drover.job_listing_add() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO drover.job_listing (app, id) SELECT app, id FROM added;
    RETURN NULL;
END;
$$;

CREATE FUNCTION drover.job_listing_remove() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM drover.job_listing AS l USING removed AS r WHERE l.app = r.app AND l.id = r.id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION drover.job_listing_clear() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE drover.job_listing;
    RETURN NULL;
END;
$$;

-- The triggers first: creating them locks drover.jobs against writes until
-- this migration commits, so no job inserted meanwhile is missed by the copy.
CREATE TRIGGER jobs_listing_add AFTER INSERT ON drover.jobs
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION drover.job_listing_add();
CREATE TRIGGER jobs_listing_remove AFTER DELETE ON drover.jobs
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION drover.job_listing_remove();
CREATE TRIGGER jobs_listing_clear AFTER TRUNCATE ON drover.jobs
    FOR EACH STATEMENT EXECUTE FUNCTION drover.job_listing_clear();

INSERT INTO drover.job_listing (app, id) SELECT app, id FROM drover.jobs;
DROP INDEX drover.jobs_by_app_newest;

-- migrate:down
CREATE INDEX jobs_by_app_newest ON drover.jobs (app, id DESC);
DROP TRIGGER jobs_listing_clear ON drover.jobs;
DROP TRIGGER jobs_listing_remove ON drover.jobs;
DROP TRIGGER jobs_listing_add ON drover.jobs;
DROP FUNCTION drover.job_listing_clear();
DROP FUNCTION drover.job_listing_remove();
DROP FUNCTION drover.job_listing_add();
DROP TABLE drover.job_listing;
