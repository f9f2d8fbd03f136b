-- jobs/set_progress: the latest progress of many running jobs in one
-- statement, only for jobs this worker still holds.
-- status::text: one primary-key lookup per job, see jobs/complete_many.
-- $1 owner, $2 ids, $3 percents, $4 messages
UPDATE drover.jobs AS j
SET progress_percent = p.percent, progress_message = p.message
FROM unnest($2::bigint[], $3::smallint[], $4::text[]) AS p(id, percent, message)
WHERE j.id = p.id AND j.id = ANY($2::bigint[])  -- primary-key lookups whatever the join (see jobs/claim)
  AND j.status::text = 'running' AND j.lease_owner = $1;
