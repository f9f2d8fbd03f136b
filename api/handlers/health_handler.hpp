#pragma once
// /healthz (the process answers) and /readyz (database reachable, schema current).
#include <pistache/router.h>

#include "api/db_executor.hpp"

namespace drover::api {

class HealthHandler {
public:
    explicit HealthHandler(DbExecutor& db) : db_(db) {}

    void healthz(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    void readyz(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
};

}  // namespace drover::api
