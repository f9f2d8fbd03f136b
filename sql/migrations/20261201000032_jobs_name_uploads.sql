-- migrate:up
-- A job may name one upload of its app (POST /v1/jobs "upload_id"); the
-- worker unpacks it into the job's inbound/ folder when the command starts.
-- The upload sweeps keep an upload while an unfinished job names it; a
-- finished job keeps no upload alive (ON DELETE SET NULL).
ALTER TABLE drover.jobs ADD COLUMN upload_id bigint REFERENCES drover.uploads (id) ON DELETE SET NULL;
-- Which jobs need an upload (the sweeps); partial: most jobs name none.
CREATE INDEX jobs_by_upload ON drover.jobs (upload_id) WHERE upload_id IS NOT NULL;

-- migrate:down
DROP INDEX drover.jobs_by_upload;
ALTER TABLE drover.jobs DROP COLUMN upload_id;
