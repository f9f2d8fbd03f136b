-- migrate:up
-- Parts of a parted upload sent in order are written straight into one file
-- per session (<storage root>/sessions/<id>/data) at their offset, so that
-- completing the upload moves that file into place instead of copying every
-- part into a new one (a second write of the whole upload, and its fsync).
-- data_offset says where a part's bytes are: at this offset of the data file,
-- or (NULL) in a file of its own, sessions/<id>/<number>, as before — a part
-- sent out of order or sent again. The row decides: a file a crash left
-- behind without its row is never read.
ALTER TABLE drover.upload_parts
    ADD COLUMN data_offset bigint,
    ADD CONSTRAINT upload_parts_data_offset_range CHECK (data_offset IS NULL OR data_offset >= 0);

-- migrate:down
ALTER TABLE drover.upload_parts DROP COLUMN data_offset;
