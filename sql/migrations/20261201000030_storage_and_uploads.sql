-- migrate:up
-- Stored files, content-addressed. A blob is one file under the storage root
-- (DROVER_STORAGE_DIR), at a path derived from its sha256; equal content is
-- stored once and counted once, however many uploads or artifacts name it.
-- The row is committed only once the file is in place (written to a temp file
-- in the same filesystem, fsynced, renamed), so a row always has its file; a
-- file without a row (a crash between rename and commit) is for the
-- reconciliation sweep to remove.
CREATE TABLE drover.blobs (
    sha256       text PRIMARY KEY,
    size         bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Refreshed when an upload or artifact naming it is made or read: the
    -- eviction sweep deletes the least recently used first.
    last_used_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blobs_sha256_hex CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT blobs_size_range CHECK (size >= 0)
);
-- Eviction walks blobs oldest use first.
CREATE INDEX blobs_by_last_use ON drover.blobs (last_used_at, sha256);

-- An upload: one app's record of a zip it sent. Another app that sends the
-- same bytes gets a record of its own over the same blob.
CREATE TABLE drover.uploads (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app               text NOT NULL REFERENCES drover.apps (name),
    sha256            text NOT NULL REFERENCES drover.blobs (sha256),
    size              bigint NOT NULL,
    media_type        text NOT NULL DEFAULT 'application/zip',
    -- What validation counted: entries, and bytes actually decompressed.
    entries           bigint NOT NULL,
    uncompressed_size bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_used_at      timestamptz NOT NULL DEFAULT now(),
    -- Never evicted. Protected implies whitelisted (and read-only).
    whitelisted       boolean NOT NULL DEFAULT false,
    protected         boolean NOT NULL DEFAULT false,
    -- NULL: kept until no unfinished job needs it and the grace period passed.
    expires_at        timestamptz,
    CONSTRAINT uploads_size_range CHECK (size >= 0 AND entries >= 0 AND uncompressed_size >= 0),
    CONSTRAINT uploads_protected_is_whitelisted CHECK (NOT protected OR whitelisted)
);
CREATE INDEX uploads_by_app ON drover.uploads (app, id);
-- Which records still name a blob (eviction, reconciliation).
CREATE INDEX uploads_by_sha256 ON drover.uploads (sha256);
-- The upload cleanup sweep: oldest unused first.
CREATE INDEX uploads_by_last_use ON drover.uploads (last_used_at, id) WHERE NOT whitelisted;

-- migrate:down
DROP TABLE drover.uploads;
DROP TABLE drover.blobs;
