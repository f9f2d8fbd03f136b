#pragma once
// Moving upload records and their files between installations as one archive
// (`drover export` / `drover import`; docs/storage.md, "Export and import").
//
// The archive is a POSIX tar (pax) written and read with libarchive:
//   drover-export.json   first: {"format": "drover-export", "version": 1,
//                        "uploads": [record…], "blobs": [{"sha256", "size"}…]}
//   blobs/<sha256>       one per distinct content, in the order of "blobs"
//   drover-export.end    last: the manifest's sha256, so an archive cut at an
//                        entry boundary is refused too.
// An import reads it front to back in one transaction: every file is checked
// (its sha256 and size against its name and the manifest) and stored before
// the records are inserted and the transaction committed; on any fault the
// files this import created are removed and nothing is committed.
#include <cstdint>
#include <string>

#include "core/db/connection.hpp"
#include "core/storage/blob_store.hpp"

namespace drover {

struct ExportSummary {
    std::int64_t uploads = 0;
    std::int64_t blobs = 0;
    std::int64_t bytes = 0;  // content bytes written
};
// Writes the archive to `fd` (a file or a pipe). Inside one REPEATABLE READ
// transaction, holding each blob's content lock shared, so the records and
// files written agree. A file whose bytes do not match its record fails it.
ExportSummary export_uploads(db::Connection& conn, storage::BlobStore& blobs, int fd, bool whitelisted_only);

struct ImportSummary {
    std::int64_t uploads = 0;          // records inserted
    std::int64_t uploads_skipped = 0;  // already here (the same archive imported before)
    std::int64_t blobs = 0;            // contents in the archive
    std::int64_t blobs_new = 0;        // of which new to this storage
};
// Reads an archive from `fd` and imports it, all or nothing. Throws
// InputError (with the reason) for a damaged or hostile archive, and for
// records of apps this database does not have.
ImportSummary import_uploads(db::Connection& conn, storage::BlobStore& blobs, int fd);

}  // namespace drover
