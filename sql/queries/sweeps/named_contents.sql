-- sweeps/named_contents: of the contents $1, those a blob row names (stored
-- again since they were queued: their files stay).
-- $1 sha256[]
SELECT sha256 FROM drover.blobs WHERE sha256 = ANY($1::text[]);
