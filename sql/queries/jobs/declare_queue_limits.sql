-- jobs/declare_queue_limits: makes the queue limits owned by kinds files
-- (source = 'kinds_file') exactly the ones a worker's kinds file declares:
-- adds and changes those, removes the others. Rows an operator set are left
-- alone, and win. Returns what changed (added, changed, removed, and
-- operator_wins where an operator's row differs from the file), for the
-- worker to log. `before` reads the table as it was:
-- every part of one statement sees the same snapshot.
-- $1 queues, $2 their concurrency
WITH declared AS (
    SELECT * FROM unnest($1::text[], $2::integer[]) AS d(queue, concurrency)
), before AS (
    SELECT queue, concurrency, source FROM drover.queue_limits
), removed AS (
    DELETE FROM drover.queue_limits AS l
    WHERE l.source = 'kinds_file' AND NOT EXISTS (SELECT 1 FROM declared AS d WHERE d.queue = l.queue)
    RETURNING l.queue, l.concurrency
), upserted AS (
    INSERT INTO drover.queue_limits AS l (queue, concurrency, source)
    SELECT queue, concurrency, 'kinds_file' FROM declared
    ON CONFLICT (queue) DO UPDATE SET concurrency = excluded.concurrency
    WHERE l.source = 'kinds_file' AND l.concurrency <> excluded.concurrency
    RETURNING l.queue, l.concurrency
)
SELECT 'removed' AS change, r.queue AS name, r.concurrency AS old_concurrency, NULL::integer AS new_concurrency
FROM removed AS r
UNION ALL
SELECT CASE WHEN b.queue IS NULL THEN 'added' ELSE 'changed' END, u.queue, b.concurrency, u.concurrency
FROM upserted AS u LEFT JOIN before AS b USING (queue)
UNION ALL
SELECT 'operator_wins', d.queue, b.concurrency, d.concurrency
FROM declared AS d JOIN before AS b USING (queue)
WHERE b.source = 'operator' AND b.concurrency <> d.concurrency
ORDER BY 2;
