#pragma once
// /v1/uploads: an app sends a zip as the request body; it is checked
// (core/archive/zip_check), stored content-addressed (core/storage) and
// recorded for the app (core/store/upload_store). A refused zip leaves
// nothing: it is checked before any file or row is written.
#include <pistache/router.h>

#include "api/db_executor.hpp"
#include "core/archive/zip_check.hpp"
#include "core/storage/blob_store.hpp"
#include "core/store/upload_store.hpp"

namespace drover::api {

class UploadsHandler {
public:
    struct Options {
        std::filesystem::path storage_root;
        archive::ZipLimits limits;
        std::int64_t max_storage_bytes = 0;  // 0: no cap
        std::string root_path;               // DROVER_ROOT_PATH, for Location
        std::int64_t max_part_bytes = 8 << 20;
        std::int64_t max_parted_bytes = 1ll << 30;
        std::int64_t session_ttl_s = 86400;
        int eviction_target_percent = 60;  // a full storage is evicted down to this share first
    };
    UploadsHandler(DbExecutor& db, Options options);

    // POST /v1/uploads (body: the zip) → 201 + Location and the upload; 422 for a refused zip,
    // 413 past DROVER_MAX_UPLOAD_BYTES (the request guard), 507 when storage is full.
    void create(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /v1/uploads/:id → the upload, or 404 (also for another app's).
    void get(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

    // GET /v1/uploads/:id/content → the zip itself (ETag = sha256, Range), or 404.
    void content(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

    // Parted uploads, for zips larger than one request may carry:
    // POST /v1/uploads/sessions → 201 {"id", "expires_at", "max_part_bytes", "parts": []}.
    void create_session(RequestContext ctx, const Pistache::Rest::Request& request,
                        Pistache::Http::ResponseWriter& response);
    // PUT /v1/uploads/sessions/:id/parts/:n (body: the part, n from 1) → 200 {"number", "size", "sha256"}.
    void put_part(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /v1/uploads/sessions/:id → the session and the parts it received.
    void get_session(RequestContext ctx, const Pistache::Rest::Request& request,
                     Pistache::Http::ResponseWriter& response);
    // POST /v1/uploads/sessions/:id/complete {"sha256"?} → 201 and the upload, as POST /v1/uploads.
    void complete(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    Upload store_evicting(db::Connection& conn, std::int64_t size, const std::function<Upload()>& store);

    DbExecutor& db_;
    Options options_;
    storage::BlobStore blobs_;
};

}  // namespace drover::api
