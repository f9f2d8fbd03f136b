-- jobs/get: one job as its app sees it; another app's job is simply not found.
-- $1 id, $2 app
SELECT * FROM drover.jobs WHERE id = $1::bigint AND app = $2;
