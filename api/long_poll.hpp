#pragma once
// Long-polling (GET /v1/jobs/{id}?wait=S, GET /v1/jobs/{id}/logs?wait=S):
// a request that asks to wait is parked here, holding neither a reactor
// thread nor a database connection: only its ResponseWriter. One thread of
// this class, with one connection of its own, checks every parked job in
// one query (jobs/poll_waiting) every `interval`; a request whose job
// finished (or, for logs, has lines after the client's cursor), whose job is
// not the app's (answered 404 by the handler's own work), or whose time is
// up is handed to the DbExecutor to be answered like any request.
//
// It polls rather than LISTENs: nothing notifies when a worker finishes a
// job, and a trigger that did would cost every claim and completion. So an
// answer comes up to `interval` (default 100 ms) after the change.
#include <pistache/http.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/db_executor.hpp"

namespace drover::api {

class LongPoll {
public:
    LongPoll(DbExecutor& db, std::string database_url, std::chrono::milliseconds interval = std::chrono::milliseconds(100),
             std::size_t max_waiting = 10000);
    ~LongPoll();
    LongPoll(const LongPoll&) = delete;
    LongPoll& operator=(const LongPoll&) = delete;

    // Answers with `work` (through the DbExecutor) once job `id` finished, or
    // — when after_line is set — has a log line past it, or at `deadline`.
    void park(std::int64_t id, std::optional<std::int64_t> after_line, std::chrono::steady_clock::time_point deadline,
              Pistache::Http::ResponseWriter response, RequestContext ctx, DbExecutor::Work work);
    // Answers every parked request now, then stops the thread.
    void stop();

private:
    struct Waiter {
        std::int64_t id = 0;
        std::optional<std::int64_t> after_line;
        std::chrono::steady_clock::time_point deadline;
        std::shared_ptr<Pistache::Http::ResponseWriter> response;
        RequestContext ctx;
        DbExecutor::Work work;
    };
    void loop();
    void answer(Waiter& w);

    DbExecutor& db_;
    std::string url_;
    std::chrono::milliseconds interval_;
    std::size_t max_waiting_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Waiter> waiting_;
    bool stopping_ = false;
    bool fresh_ = false;  // parked since the last query
    std::thread thread_;
};

}  // namespace drover::api
