-- jobs/list: one page of an app's jobs, newest (highest id) first, after a
-- keyset cursor (the last id of the previous page), with optional filters.
-- Served by jobs_by_app_newest (app, id DESC) for an app with a small share
-- of the table, by jobs_pkey walked backwards for a large one; the cursor is
-- an index bound either way (coalesce, not "IS NULL OR"), so page 1,000
-- starts where it should instead of counting past 999 pages. The store plans
-- it for each call: a generic plan, blind to the app, took jobs_pkey for an
-- app with 0.05 % of 200,000 jobs and read 1,901 buffers (15.6 ms) for page
-- 1. A filter that matches few of the app's jobs makes the walk longer.
-- $1 app, $2 before id (NULL: the newest), $3 statuses (text[], NULL: any),
-- $4 kind, $5 queue, $6 created_after, $7 created_before, $8 limit
SELECT * FROM drover.jobs
WHERE app = $1
  AND id < coalesce($2::bigint, 9223372036854775807)
  AND ($3::drover.job_status[] IS NULL OR status = ANY ($3::drover.job_status[]))
  AND ($4::text IS NULL OR kind = $4)
  AND ($5::text IS NULL OR queue = $5)
  AND ($6::timestamptz IS NULL OR created_at > $6::timestamptz)
  AND ($7::timestamptz IS NULL OR created_at < $7::timestamptz)
ORDER BY id DESC
LIMIT $8;
