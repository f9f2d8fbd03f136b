#pragma once
// The route tables, one per listener, and nothing else: which handler serves
// which path, and which key it needs. The public listener serves /v1 and
// health; the admin listener (DROVER_ADMIN_HOST:DROVER_ADMIN_PORT) serves
// /maintenance with operator keys only. A path of one listener is a 404 on
// the other, whatever the key.
#include <pistache/router.h>

#include "api/auth/authenticator.hpp"
#include "api/handlers/admin_handler.hpp"
#include "api/handlers/docs_handler.hpp"
#include "api/handlers/artifacts_handler.hpp"
#include "api/handlers/drs_handler.hpp"
#include "api/handlers/health_handler.hpp"
#include "api/handlers/jobs_handler.hpp"
#include "api/handlers/status_handler.hpp"
#include "api/handlers/storage_admin_handler.hpp"
#include "api/handlers/uploads_handler.hpp"

namespace drover::api {

struct Handlers {
    HealthHandler& health;
    JobsHandler& jobs;
    KeysHandler& keys;
    StatusHandler& status;
    DocsHandler& docs;
    UploadsHandler& uploads;
    ArtifactsHandler& artifacts;
    DrsHandler& drs;
};

// root_path ("" or "/prefix"): prepended to every public route (DROVER_ROOT_PATH).
void add_routes(Pistache::Rest::Router& router, Handlers handlers, Authenticator& auth,
                const std::string& root_path = {});
// storage: the storage routes (/maintenance/uploads, /storage, /sweeps); none: left out.
void add_admin_routes(Pistache::Rest::Router& router, AdminHandler& admin, Authenticator& auth,
                      StorageAdminHandler* storage = nullptr);

// Every route registered so far, as "METHOD /template" (":id" style), for
// the test that checks api/docs/openapi.json describes each one.
const std::vector<std::string>& registered_routes();

}  // namespace drover::api
