-- jobs/extend_leases: the worker's heartbeat, one statement for all its
-- running jobs. Returns the ids whose lease is still held, and whether a
-- cancel was requested (the fallback when a drover_cancel notification was
-- lost); a job missing from the answer was rescued and its worker must stop
-- running it.
-- $1 owner, $2 ids, $3 lease seconds, $4 now (NULL = now())
UPDATE drover.jobs
SET lease_expires_at = coalesce($4::timestamptz, now()) + make_interval(secs => $3::double precision)
WHERE id = ANY($2::bigint[]) AND status = 'running' AND lease_owner = $1
RETURNING id, cancel_requested_at IS NOT NULL AS cancel_requested;
