-- long_poll/watch: this LISTEN connection has requests parked on jobs $1, so
-- their changes are to be notified (drover.watch_jobs; migration
-- 20261201000050 says why it locks). Its own transaction; run before the
-- waiters' first look at the jobs.
-- $1 ids (bigint[])
SELECT drover.watch_jobs($1::bigint[]);
