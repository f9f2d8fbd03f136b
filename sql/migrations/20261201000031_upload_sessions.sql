-- migrate:up
-- Parted uploads: a zip too large for one request body (the API buffers a
-- whole body in memory) is sent as numbered parts of a session, each part a
-- file under <storage root>/sessions/<id>/, then completed into an upload.
-- A session nobody completes expires; the session sweep removes it and its
-- part files.
CREATE TABLE drover.upload_sessions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app             text NOT NULL REFERENCES drover.apps (name),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    CONSTRAINT upload_sessions_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX upload_sessions_by_expiry ON drover.upload_sessions (expires_at);

CREATE TABLE drover.upload_parts (
    session_id  bigint NOT NULL REFERENCES drover.upload_sessions (id) ON DELETE CASCADE,
    number      integer NOT NULL,
    size        bigint NOT NULL,
    sha256      text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, number),
    CONSTRAINT upload_parts_number_range CHECK (number BETWEEN 1 AND 10000),
    CONSTRAINT upload_parts_size_range CHECK (size >= 0),
    CONSTRAINT upload_parts_sha256_hex CHECK (sha256 ~ '^[0-9a-f]{64}$')
);

-- migrate:down
DROP TABLE drover.upload_parts;
DROP TABLE drover.upload_sessions;
