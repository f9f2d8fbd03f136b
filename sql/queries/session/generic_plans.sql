-- session/generic_plans: this transaction's prepared statements run their
-- generic plan instead of planning again for each execution's parameters.
-- Sent first in the worker's pipeline (JobStore::write_round): planning
-- jobs/claim and jobs/complete_many anew cost ~0.5 ms each per round, about
-- a fifth of the server's work per job in bench/run throughput_noop. Their
-- SQL is written so that the generic plan is the right one (see there).
SELECT set_config('plan_cache_mode', 'force_generic_plan', true);
