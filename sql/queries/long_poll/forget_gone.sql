-- long_poll/forget_gone: drops the waits of LISTEN connections that are gone
-- (an API process that stopped or lost its connection). Sent when a
-- long-poll listener (re)connects, before it watches its jobs again.
DELETE FROM drover.job_waiters WHERE listen_pid NOT IN (SELECT pid FROM pg_stat_get_activity(NULL));
