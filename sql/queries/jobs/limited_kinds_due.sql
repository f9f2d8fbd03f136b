-- jobs/limited_kinds_due: which of the limited kinds $2 have a due job in
-- queue $1 and, at a look without locks, room under their limit; ordered by
-- each kind's best job (priority, run_at, id), so that claims across limited
-- kinds still follow priority. Only a hint (JobStore::claim_kind checks again
-- under the lock): it spares a worker one locked transaction per limited kind
-- and queue at every claim when nothing is due or the kind is full. One scan
-- of the running rows counts every kind; jobs_claimable_by_kind finds heads.
-- $1 queue, $2 limited kinds
WITH running AS (
    SELECT kind, count(*) AS n
    FROM drover.jobs
    WHERE status = 'running' AND kind = ANY($2::text[])
    GROUP BY kind
)
SELECT k.kind
FROM unnest($2::text[]) AS k(kind)
LEFT JOIN drover.kind_limits AS l ON l.kind = k.kind
LEFT JOIN running AS r ON r.kind = k.kind
CROSS JOIN LATERAL (
    SELECT j.priority, j.run_at, j.id
    FROM drover.jobs AS j
    WHERE j.status = 'pending' AND j.kind = k.kind AND j.queue = $1 AND j.run_at <= now()
    ORDER BY j.priority DESC, j.run_at, j.id
    LIMIT 1
) AS head
WHERE coalesce(l.concurrency, 2147483647) > coalesce(r.n, 0)
ORDER BY head.priority DESC, head.run_at, head.id;
