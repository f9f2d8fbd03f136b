-- jobs/get_any: every column of one job of any app, as JSON, for the admin
-- listener's full record (GET /maintenance/jobs/{id}). $1 id
SELECT row_to_json(j)::text FROM drover.jobs AS j WHERE id = $1::bigint;
