-- sweeps/lock: the storage sweeps run one at a time across every process and
-- host (transaction-level; released at commit). false: another holds it.
-- $1 the sweep's key
SELECT pg_try_advisory_xact_lock(1685221239, $1::integer) AS locked;
