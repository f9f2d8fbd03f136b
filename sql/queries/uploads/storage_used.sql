-- uploads/storage_used: bytes stored, each blob counted once however many records name it.
SELECT coalesce(sum(size), 0)::bigint AS used, count(*) AS blobs FROM drover.blobs;
