-- migrate:up
-- Who owns a concurrency limit. Workers used to write the limits their kinds
-- file declares at every start and never remove one: a limit deleted from the
-- file stayed in force for good. Now each row says where it comes from:
--   kinds_file  declared by a kinds file. A worker, when it starts, makes the
--               kinds_file rows exactly its file's: it adds and changes what
--               the file declares and removes what it no longer declares.
--               Every worker is meant to run with the same file (so is the
--               API); with different files the last worker started wins, and
--               it logs each limit it changed or removed.
--   operator    set by hand (SQL today, the admin API later): no worker
--               touches it, and it wins over a kinds file declaring the same
--               kind or queue.
-- Rows written before this migration came from kinds files.
ALTER TABLE drover.kind_limits
    ADD COLUMN source text NOT NULL DEFAULT 'operator' CHECK (source IN ('kinds_file', 'operator'));
UPDATE drover.kind_limits SET source = 'kinds_file';
ALTER TABLE drover.queue_limits
    ADD COLUMN source text NOT NULL DEFAULT 'operator' CHECK (source IN ('kinds_file', 'operator'));
UPDATE drover.queue_limits SET source = 'kinds_file';

-- migrate:down
ALTER TABLE drover.queue_limits DROP COLUMN source;
ALTER TABLE drover.kind_limits DROP COLUMN source;
