#pragma once
// Uploads (drover.uploads) and the blobs they name (drover.blobs), through
// sql/queries/uploads/*.sql. store() is the one way an upload is made: the
// blob row is claimed (and locked) first, the file put in place, the record
// inserted, and only then is the transaction committed.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/db/connection.hpp"
#include "core/error.hpp"
#include "core/storage/blob_store.hpp"

namespace drover {

struct Upload {
    std::int64_t id = 0;
    std::string app;
    std::string sha256;
    std::int64_t size = 0;
    std::string media_type;
    std::int64_t entries = 0;
    std::int64_t uncompressed_size = 0;
    std::string created_at;
    std::string last_used_at;
    bool whitelisted = false;
    bool is_protected = false;
    std::optional<std::string> expires_at;
};

struct NewUpload {
    std::string app;
    std::string media_type = "application/zip";
    std::int64_t entries = 0;
    std::int64_t uncompressed_size = 0;
};

// Storage is full: the new content would take usage past DROVER_MAX_STORAGE_BYTES.
class StorageFull : public Error {
public:
    using Error::Error;
};

class UploadStore {
public:
    UploadStore(db::Connection& conn, storage::BlobStore& blobs) : conn_(conn), blobs_(blobs) {}

    // Stores `bytes` (sha256 precomputed) and records it for `upload.app`.
    // Throws StorageFull when new content would not fit under max_storage_bytes (0: no cap).
    Upload store(const NewUpload& upload, const std::string& sha256, std::string_view bytes,
                 std::int64_t max_storage_bytes);
    // The same for content already written to a finished TempFile of this
    // BlobStore. `also` runs in the storing transaction, after the upload row
    // is inserted (a completed session's rows are deleted there).
    Upload store(const NewUpload& upload, const std::string& sha256, storage::TempFile& file,
                 std::int64_t max_storage_bytes, const std::function<void()>& also = {});
    // The same for a finished file under the storage root of `size` bytes (a
    // parted upload's data file), linked into place: it keeps its own name
    // until the caller removes it.
    Upload store(const NewUpload& upload, const std::string& sha256, const std::filesystem::path& file,
                 std::int64_t size, std::int64_t max_storage_bytes, const std::function<void()>& also = {});
    std::optional<Upload> get(std::int64_t id, const std::string& app);

private:
    // place(): puts the file in place; true when it created it.
    Upload store_with(const NewUpload& upload, const std::string& sha256, std::int64_t size,
                      const std::function<bool()>& place, std::int64_t max_storage_bytes,
                      const std::function<void()>& also = {});

    db::Connection& conn_;
    storage::BlobStore& blobs_;
};

std::string upload_to_json(const Upload& upload);

}  // namespace drover
