-- migrate:up
-- The storage sweeps decide in SQL and delete files in code. A sweep's
-- transaction deletes the records that must go and the blob rows no record
-- names any more, and queues those blobs' files here; after the commit the
-- sweeper removes each queued file (under the content's advisory lock, only
-- if no blob row names it again) and then its queue row. A crash between the
-- two leaves the queue, which the next run of any sweep works off: nothing
-- is lost and nothing is deleted twice by mistake.
CREATE TABLE drover.storage_deletions (
    sha256    text PRIMARY KEY,
    queued_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE drover.storage_deletions;
