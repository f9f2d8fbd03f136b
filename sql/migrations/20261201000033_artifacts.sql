-- migrate:up
-- Artifacts: the files a command job left in its outbound/ folder, stored
-- content-addressed (drover.blobs) and recorded per job under their path in
-- outbound/. A file left again by a later attempt replaces the record. They
-- expire after their retention (DROVER_ARTIFACT_RETENTION_S); the artifact
-- sweep deletes expired records, and blobs no record names any more.
CREATE TABLE drover.artifacts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id     bigint NOT NULL REFERENCES drover.jobs (id) ON DELETE CASCADE,
    app        text NOT NULL,
    attempt    integer NOT NULL,
    name       text NOT NULL,
    sha256     text NOT NULL REFERENCES drover.blobs (sha256),
    size       bigint NOT NULL,
    media_type text NOT NULL DEFAULT 'application/octet-stream',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CONSTRAINT artifacts_one_per_name UNIQUE (job_id, name),
    CONSTRAINT artifacts_name_valid CHECK (length(name) BETWEEN 1 AND 1024 AND name !~ '(^/|\\|:|(^|/)\.\.?(/|$))'),
    CONSTRAINT artifacts_size_range CHECK (size >= 0)
);
-- The artifact sweep: expired first.
CREATE INDEX artifacts_by_expiry ON drover.artifacts (expires_at);
-- Which records still name a blob.
CREATE INDEX artifacts_by_sha256 ON drover.artifacts (sha256);

-- migrate:down
DROP TABLE drover.artifacts;
