-- jobs/list: one page of an app's jobs, newest (highest id) first, after a
-- keyset cursor (the last id of the previous page), with optional filters.
-- Walks drover.job_listing (app, id) backwards from the cursor and reads each
-- job by its primary key: page 1,000 starts where it should instead of
-- counting past 999 pages (the cursor is an index bound: coalesce, not
-- "IS NULL OR"), and an app with few jobs in a large table reads only its
-- own. The store plans it for each call: for a large app the planner may
-- merge the walk with jobs_pkey walked backwards, for a small one it must
-- not (a generic plan, blind to the app, read 1,901 buffers, 15.6 ms, for
-- page 1 of an app with 0.05 % of 200,000 jobs when the listing was an
-- index). A filter that matches few of the app's jobs makes the walk longer.
-- $1 app, $2 before id (NULL: the newest), $3 statuses (text[], NULL: any),
-- $4 kind, $5 queue, $6 created_after, $7 created_before, $8 limit
SELECT j.*
FROM drover.job_listing AS l
JOIN drover.jobs AS j ON j.id = l.id AND j.app = l.app
WHERE l.app = $1
  AND l.id < coalesce($2::bigint, 9223372036854775807)
  AND ($3::drover.job_status[] IS NULL OR j.status = ANY ($3::drover.job_status[]))
  AND ($4::text IS NULL OR j.kind = $4)
  AND ($5::text IS NULL OR j.queue = $5)
  AND ($6::timestamptz IS NULL OR j.created_at > $6::timestamptz)
  AND ($7::timestamptz IS NULL OR j.created_at < $7::timestamptz)
ORDER BY l.id DESC
LIMIT $8;
