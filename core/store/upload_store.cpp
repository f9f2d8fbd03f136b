#include "core/store/upload_store.hpp"

#include "core/job.hpp"
#include "core/json.hpp"

namespace drover {
namespace {

Upload upload_from_row(const db::Result& r, int row) {
    Upload u;
    u.id = r.int64(row, "id");
    u.app = std::string(r.text(row, "app"));
    u.sha256 = std::string(r.text(row, "sha256"));
    u.size = r.int64(row, "size");
    u.media_type = std::string(r.text(row, "media_type"));
    u.entries = r.int64(row, "entries");
    u.uncompressed_size = r.int64(row, "uncompressed_size");
    u.created_at = rfc3339(r.text(row, "created_at"));
    u.last_used_at = rfc3339(r.text(row, "last_used_at"));
    u.whitelisted = r.boolean(row, r.column("whitelisted"));
    u.is_protected = r.boolean(row, r.column("protected"));
    if (auto e = r.optional_text(row, r.column("expires_at"))) u.expires_at = rfc3339(*e);
    return u;
}

}  // namespace

Upload UploadStore::store(const NewUpload& upload, const std::string& sha256, std::string_view bytes,
                          std::int64_t max_storage_bytes) {
    return store_with(upload, sha256, static_cast<std::int64_t>(bytes.size()),
                      [&] { return blobs_.put(sha256, bytes); }, max_storage_bytes);
}

Upload UploadStore::store(const NewUpload& upload, const std::string& sha256, storage::TempFile& file,
                          std::int64_t max_storage_bytes, const std::function<void()>& also) {
    return store_with(upload, sha256, static_cast<std::int64_t>(file.size()),
                      [&] { return blobs_.adopt(file, sha256); }, max_storage_bytes, also);
}

Upload UploadStore::store(const NewUpload& upload, const std::string& sha256, const std::filesystem::path& file,
                          std::int64_t size, std::int64_t max_storage_bytes, const std::function<void()>& also) {
    return store_with(upload, sha256, size, [&] { return blobs_.link(file, sha256); }, max_storage_bytes, also);
}

Upload UploadStore::store_with(const NewUpload& upload, const std::string& sha256, std::int64_t size,
                               const std::function<bool()>& place, std::int64_t max_storage_bytes,
                               const std::function<void()>& also) {
    return db::in_transaction(conn_, [&] {
        // The row first: its lock makes a sweep that deletes this blob wait
        // for us (and us for it), so the file we rely on cannot vanish
        // between the check below and the commit.
        auto claimed = conn_.query("uploads/claim_blob", db::Params().add(sha256).add(size).null());
        const bool new_row = claimed.boolean(0, claimed.column("inserted"));
        if (new_row && max_storage_bytes > 0) {
            auto used = conn_.query("uploads/storage_used").int64(0, "used");  // includes this blob's row
            if (used > max_storage_bytes) {
                throw StorageFull("storage is full: " + std::to_string(used - size) + " of " +
                                  std::to_string(max_storage_bytes) + " bytes used, and this upload needs " +
                                  std::to_string(size));
            }
        }
        bool created_file = place();
        try {
            auto r = conn_.query("uploads/insert", db::Params()
                                                       .add(upload.app)
                                                       .add(sha256)
                                                       .add(size)
                                                       .add(upload.media_type)
                                                       .add(upload.entries)
                                                       .add(upload.uncompressed_size)
                                                       .null());
            if (also) also();
            return upload_from_row(r, 0);
        } catch (...) {
            // Still holding the blob row's lock: nobody else can have come to
            // rely on the file we just made.
            if (created_file && new_row) blobs_.remove(sha256);
            throw;
        }
    });
}

std::optional<Upload> UploadStore::get(std::int64_t id, const std::string& app) {
    auto r = conn_.query("uploads/get", db::Params().add(id).add(app));
    if (r.empty()) return std::nullopt;
    return upload_from_row(r, 0);
}

std::string upload_to_json(const Upload& u) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("id");
    w.String(std::to_string(u.id));
    w.Key("sha256");
    w.String(u.sha256);
    w.Key("size");
    w.Int64(u.size);
    w.Key("media_type");
    w.String(u.media_type);
    w.Key("entries");
    w.Int64(u.entries);
    w.Key("uncompressed_size");
    w.Int64(u.uncompressed_size);
    w.Key("created_at");
    w.String(u.created_at);
    w.Key("whitelisted");
    w.Bool(u.whitelisted);
    w.Key("protected");
    w.Bool(u.is_protected);
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace drover
