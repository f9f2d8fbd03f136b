-- sweeps/all_blobs: every blob row, for reconciliation with the files on disk.
SELECT sha256 FROM drover.blobs;
