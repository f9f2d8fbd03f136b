#pragma once
// GA4GH Data Repository Service (DRS 1.x) over Drover's stored files, so that
// workflow tools that speak DRS can fetch them: uploads are objects
// "upload-<id>", artifacts "artifact-<id>". Same keys and app rules as the
// rest of the API: another app's object is a 404 like an unknown one. Error
// bodies follow DRS ({"msg", "status_code"}).
#include <pistache/router.h>

#include "api/db_executor.hpp"
#include "core/storage/blob_store.hpp"

namespace drover::api {

class DrsHandler {
public:
    // public_url: DROVER_PUBLIC_URL ("" = http://<Host header>), with DROVER_ROOT_PATH.
    DrsHandler(DbExecutor& db, std::string public_url, std::string root_path);

    // GET /ga4gh/drs/v1/objects/:id → DrsObject {id, name, self_uri, size, created_time, mime_type,
    // checksums: [{checksum, type: "sha-256"}], access_methods: [{type: "https", access_id, access_url: {url}}]}
    void object(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /ga4gh/drs/v1/objects/:id/access/:access_id → AccessURL {url}
    void access(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
    std::string public_url_;
    std::string root_path_;
};

}  // namespace drover::api
