#pragma once
// /v1/jobs/:id/artifacts: the files a job left in outbound/ (stored by the
// worker, worker/executors/artifacts.cpp), listed and downloaded with the
// job's app's keys; another app's job is a 404 like an unknown one.
#include <pistache/router.h>

#include "api/db_executor.hpp"
#include "core/storage/blob_store.hpp"

namespace drover::api {

class ArtifactsHandler {
public:
    ArtifactsHandler(DbExecutor& db, std::filesystem::path storage_root);

    // GET /v1/jobs/:id/artifacts → {"artifacts": [{"name", "size", "sha256", "media_type", "created_at", "expires_at"}]}
    void list(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /v1/jobs/:id/artifacts/:name (a name with folders percent-encodes its '/') → the bytes, with
    // Content-Type, ETag (the sha256), Accept-Ranges; a single "Range: bytes=a-b" gets 206, an
    // unsatisfiable one 416.
    void download(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
    storage::BlobStore blobs_;
};

}  // namespace drover::api
