-- uploads/lock_session_files_for_part: uploads/lock_session_files, for the
-- transaction that writes and records a part.
-- $1 session id
SELECT pg_advisory_xact_lock(1685221240, ($1::bigint % 2147483647)::integer);
