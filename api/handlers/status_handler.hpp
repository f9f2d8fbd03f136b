#pragma once
// GET /status (any app key): version, uptime, database reachable, schema
// version (and whether it is the one this build needs), pool use, requests
// parked in long polls.
#include <pistache/router.h>

#include <chrono>

#include "api/db_executor.hpp"
#include "api/long_poll.hpp"

namespace drover::api {

class StatusHandler {
public:
    // long_poll: null where nothing parks (route tables built in tests).
    explicit StatusHandler(DbExecutor& db, LongPoll* long_poll = nullptr)
        : db_(db), long_poll_(long_poll), started_(std::chrono::steady_clock::now()) {}

    void status(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
    LongPoll* long_poll_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace drover::api
