-- uploads/sha256_of: the content a job's upload names (the worker, to unpack it into inbound/).
-- $1 upload id
SELECT sha256 FROM drover.uploads WHERE id = $1;
