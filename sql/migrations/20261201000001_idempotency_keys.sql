-- migrate:up
-- Idempotency-Key on POST /v1/jobs: a client that retries a request (after a
-- timeout, a 503, a dropped connection) with the same key gets the answer
-- the first one got, instead of a second job. Keys belong to an app, remember
-- a fingerprint of the request body (the same key with another body is an
-- error), and expire (24 h, see docs): then the key is free again. A key goes
-- with its job when the job is deleted.
CREATE TABLE drover.idempotency_keys (
    app text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint text NOT NULL,
    job_id bigint REFERENCES drover.jobs (id) ON DELETE CASCADE,
    status_code smallint,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (app, key)
);
CREATE INDEX idempotency_keys_expires_at ON drover.idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_job_id ON drover.idempotency_keys (job_id);

-- migrate:down
DROP TABLE drover.idempotency_keys;
