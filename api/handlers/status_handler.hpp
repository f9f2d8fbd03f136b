#pragma once
// GET /status (any app key): version, uptime, database reachable, schema
// version (and whether it is the one this build needs), pool use.
#include <pistache/router.h>

#include <chrono>

#include "api/db_executor.hpp"

namespace drover::api {

class StatusHandler {
public:
    explicit StatusHandler(DbExecutor& db) : db_(db), started_(std::chrono::steady_clock::now()) {}

    void status(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace drover::api
