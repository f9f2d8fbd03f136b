#pragma once
// The admin listener's /maintenance routes (operator keys only, see
// router.cpp): apps and their limits, any app's keys, a job's full record.
// Bodies are JSON objects; unknown fields are refused (422).
#include <pistache/router.h>

#include "api/db_executor.hpp"

namespace drover::api {

class AdminHandler {
public:
    explicit AdminHandler(DbExecutor& db) : db_(db) {}

    // GET /maintenance/apps → {"apps": [...]}
    void list_apps(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // POST /maintenance/apps {"name", "max_unfinished_jobs"?, "rate_limit_per_s"?} → 201; 409 when it exists
    void create_app(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // PUT /maintenance/apps/:app/limits {"max_unfinished_jobs", "rate_limit_per_s"} (null: no limit) → the app
    void set_limits(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /maintenance/apps/:app/keys → {"keys": [...]} (never a hash or a key)
    void list_keys(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // POST /maintenance/apps/:app/keys {"role", "name"?} → 201 with "key", shown this once
    void create_key(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // POST /maintenance/keys/:id/revoke → the key with revoked_at
    void revoke_key(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /maintenance/jobs/:id → every column of the job, any app
    void get_job(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /metrics → this process's metrics, Prometheus text format (api/metrics.hpp)
    void metrics(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
};

// /v1/keys on the public listener: an app admin manages its own app's keys.
class KeysHandler {
public:
    explicit KeysHandler(DbExecutor& db) : db_(db) {}

    void list(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    void create(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    void revoke(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
};

}  // namespace drover::api
