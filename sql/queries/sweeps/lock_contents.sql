-- sweeps/lock_contents: the advisory locks of a group of contents (the one
-- uploads/claim_blob takes when it stores content), taken one after the
-- other in the order given; every sweeper passes the queue's order, so two
-- never wait on each other in a cycle. Held until the transaction ends.
-- Which of them a blob row names is asked by the next statement
-- (sweeps/named_contents), whose snapshot is taken after the locks: a blob
-- row committed while this one waited is seen there.
-- $1 sha256[]
SELECT count(*) AS locked
FROM (SELECT pg_advisory_xact_lock(1685221238, hashtext(s)) FROM unnest($1::text[]) AS s) AS l;
