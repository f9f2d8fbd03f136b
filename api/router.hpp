#pragma once
// The route table, and nothing else: which handler serves which path.
#include <pistache/router.h>

#include "api/handlers/health_handler.hpp"
#include "api/handlers/jobs_handler.hpp"

namespace drover::api {

struct Handlers {
    HealthHandler& health;
    JobsHandler& jobs;
};

void add_routes(Pistache::Rest::Router& router, Handlers handlers);

}  // namespace drover::api
