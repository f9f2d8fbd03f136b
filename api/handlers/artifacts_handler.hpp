#pragma once
// /v1/jobs/:id/artifacts: the files a job left in outbound/ (stored by the
// worker, worker/executors/artifacts.cpp), listed and downloaded with the
// job's app's keys; another app's job is a 404 like an unknown one.
#include <pistache/router.h>

#include "api/db_executor.hpp"
#include "core/storage/blob_store.hpp"

namespace drover::api {

// A stored file as a reply: the bytes (or the one Range asked for: 206, or 416
// past the end), Content-Type, ETag = the quoted sha256 (If-None-Match → 304),
// Accept-Ranges. The bytes are streamed from the file a chunk at a time.
Reply file_reply(storage::BlobStore& blobs, const std::string& sha256, std::int64_t size, const std::string& media_type,
                 const std::string& range_header, const std::string& if_none_match, const RequestContext& ctx);

class ArtifactsHandler {
public:
    ArtifactsHandler(DbExecutor& db, std::filesystem::path storage_root);

    // GET /v1/jobs/:id/artifacts → {"artifacts": [{"name", "size", "sha256", "media_type", "created_at", "expires_at"}]}
    void list(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /v1/jobs/:id/artifacts/:name (a name with folders percent-encodes its '/') → the bytes, with
    // Content-Type, ETag (the sha256), Accept-Ranges; a single "Range: bytes=a-b" gets 206, an
    // unsatisfiable one 416.
    void download(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /v1/jobs/:id/artifacts.zip → every unexpired artifact in one zip (entries stored), built
    // as it is sent with chunked transfer encoding.
    void zip(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
    storage::BlobStore blobs_;
};

}  // namespace drover::api
