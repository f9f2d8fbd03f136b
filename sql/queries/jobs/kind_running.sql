-- jobs/kind_running: how many jobs of a kind run now, in every queue. Scans
-- the running rows (a running-partial index) without an index on kind: see
-- migration 20261123000003 for why. $1 kind
SELECT count(*) FROM drover.jobs WHERE kind = $1 AND status = 'running';
