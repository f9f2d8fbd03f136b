-- uploads/lock_session_files: the lock on one upload session's files, held
-- by `complete` for the connection's session (until unlock_session_files)
-- while it hashes, checks and moves the session's data file: no part is
-- written into that file meanwhile (put_part takes the same lock for its
-- transaction: uploads/lock_session_files_for_part), and two completes of
-- one session run one after the other. Key 1685221240 (the sweeps use
-- 1685221239); the session id is folded into the second key, so two
-- sessions may share a lock: they then only wait for each other.
-- $1 session id
SELECT pg_advisory_lock(1685221240, ($1::bigint % 2147483647)::integer);
