#pragma once
// Prometheus metrics of one drover-api process (GET /metrics on the admin
// listener): requests by route template and status, their latency as a
// histogram per route, the database pool (use, waits) and the authenticator's
// cache; jobs by queue and status and their start delays come from the
// database at scrape time (job_metrics). Every reply passes through
// send_reply(), which records it here.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "api/reply.hpp"

namespace drover::db {
class Connection;
}

namespace drover::api {

class Metrics {
public:
    static Metrics& global();

    // One answered request: ctx.route ("" = no route matched) and the time since ctx.started.
    void record(const RequestContext& ctx, int status);
    // Extra lines (gauges read at scrape time), already in the exposition format.
    void add_source(std::function<std::string()> source);
    void clear_sources();
    // The text exposition format, version 0.0.4.
    std::string render();

private:
    static constexpr std::array<double, 10> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,  0.1,    0.5,   1.0};
    struct Route {
        std::map<int, std::uint64_t> by_status;
        std::array<std::uint64_t, bounds.size() + 1> buckets{};  // the last: +Inf
        double sum_s = 0;
        std::uint64_t count = 0;
    };
    std::mutex mutex_;
    std::map<std::string, Route> routes_;
    std::vector<std::function<std::string()>> sources_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Jobs by queue and status (gauges) and the start-delay histogram of the
// newest started jobs, read from the database (sql/queries/metrics/).
std::string job_metrics(db::Connection& conn);
// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view value);

class DbExecutor;
class Authenticator;
// The gauges of the query pool and the authenticator's counters, for add_source().
std::function<std::string()> pool_and_auth_gauges(DbExecutor& db, Authenticator& auth);

}  // namespace drover::api
