#pragma once
// Runs handlers' database work off the reactor threads. Pistache handlers run
// on reactor threads shared by many connections, so a blocking query there
// would stall them all: handlers move their ResponseWriter here instead, and
// one of N threads, each with its own connection, runs the work and answers.
// A bounded queue turns overload into 503s instead of unbounded memory.
#include <pistache/http.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/http/reply_writer.hpp"  // send_reply
#include "api/reply.hpp"
#include "core/db/connection.hpp"

namespace drover::api {

class DbExecutor {
public:
    using Work = std::function<Reply(db::Connection&)>;

    DbExecutor(std::string database_url, int connections, std::size_t queue_limit, int statement_timeout_ms);
    ~DbExecutor();
    DbExecutor(const DbExecutor&) = delete;
    DbExecutor& operator=(const DbExecutor&) = delete;

    // Queues the work; its Reply (or the error mapped by http_error) is sent
    // on `response`. Answers 503 at once when the queue is full or stopping.
    void run(Pistache::Http::ResponseWriter response, RequestContext ctx, Work work);
    // Finishes queued work, then joins the threads.
    void stop();

    // How full the pool is, for GET /status.
    struct Use {
        std::size_t connections = 0;  // threads, each with its own connection
        std::size_t busy = 0;         // running a task now
        std::size_t queued = 0;       // waiting for one
        std::size_t queue_limit = 0;
        std::uint64_t rejected = 0;  // answered 503: the queue was full
        // Time tasks waited in the queue, per upper bound in wait_bounds (the last: +Inf).
        std::array<std::uint64_t, 9> wait_buckets{};
        double wait_sum_s = 0;
    };
    static constexpr std::array<double, 8> wait_bounds = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1.0};
    Use use();
    // How long work asks whether a commit whose answer was lost went through
    // (db::in_checked_transaction); DROVER_COMMIT_CHECK_MS.
    std::chrono::milliseconds commit_check_wait() const { return commit_check_wait_; }
    void set_commit_check_wait(std::chrono::milliseconds wait) { commit_check_wait_ = wait; }

private:
    struct Task {
        std::shared_ptr<Pistache::Http::ResponseWriter> response;
        RequestContext ctx;
        Work work;
        std::chrono::steady_clock::time_point queued_at;
    };
    void loop();
    void execute(Task& task, std::unique_ptr<db::Connection>& conn);

    std::string url_;
    std::size_t queue_limit_;
    int statement_timeout_ms_;
    std::chrono::milliseconds commit_check_wait_{15000};
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Task> queue_;
    bool stopping_ = false;
    std::size_t busy_ = 0;
    std::uint64_t rejected_ = 0;
    std::array<std::uint64_t, 9> wait_buckets_{};
    double wait_sum_s_ = 0;
    std::vector<std::thread> threads_;
};

}  // namespace drover::api
