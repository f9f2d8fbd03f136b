-- uploads/unlock_session_files: releases uploads/lock_session_files.
-- $1 session id
SELECT pg_advisory_unlock(1685221240, ($1::bigint % 2147483647)::integer);
