-- session/generic_plans: this transaction's prepared statements run their
-- generic plan instead of planning again for each execution's parameters,
-- and that plan reads the indexes, whatever the statistics say.
-- Sent first in the worker's pipeline (JobStore::write_round): planning
-- jobs/claim and jobs/complete_many anew cost ~0.5 ms each per round, about
-- a fifth of the server's work per job in bench/run throughput_noop. Their
-- SQL is written so that the generic plan is the right one (see there).
-- A generic plan is made once per connection and kept, from the statistics
-- of that moment; workers start before the work arrives and queues drain to
-- zero, so those statistics are often of an empty queue. Planned from them,
-- a claim read every pending row and sorted it (20.6 ms a claim instead of
-- 0.125 ms; 200,000 jobs inserted after an empty start drained at ~200 jobs/s
-- until autovacuum analysed the table). Every statement of this pipeline is
-- a short walk of an index (the claim in claim order, the others by primary
-- key), so sequential scans, bitmap scans and sorts are priced out of its
-- plans: bench/run claim_plans holds the figures. JIT off: the claim's last
-- sort cannot be avoided, its price then passes jit_above_cost, and compiling
-- 26 functions at every execution made claims 100 times slower.
-- Nested loops off: each statement joins a batch's arrays (unnest) with the
-- rows it looked up by primary key, and the generic plan's guess for unnest
-- (a few rows) made that a nested loop rescanning the array once per row:
-- quadratic in the batch, 158 ms for a completion of 500 instead of 15 ms
-- with the hash join (issue 12: claims of up to 500 instant jobs).
SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
       set_config('enable_seqscan', 'off', true),
       set_config('enable_bitmapscan', 'off', true),
       set_config('enable_sort', 'off', true),
       set_config('enable_nestloop', 'off', true),
       set_config('jit', 'off', true);
