#include "api/metrics.hpp"

#include <sstream>

#include "api/auth/authenticator.hpp"
#include "api/db_executor.hpp"
#include "core/db/connection.hpp"
#include "core/db/params.hpp"

namespace drover::api {

Metrics& Metrics::global() {
    static Metrics metrics;
    return metrics;
}

void Metrics::record(const RequestContext& ctx, int status) {
    double seconds = ctx.started == std::chrono::steady_clock::time_point{}
                         ? 0.0
                         : std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
    std::lock_guard lock(mutex_);
    auto& r = routes_[ctx.route.empty() ? "unmatched" : ctx.route];
    ++r.by_status[status];
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) ++i;
    ++r.buckets[i];
    r.sum_s += seconds;
    ++r.count;
}

void Metrics::add_source(std::function<std::string()> source) {
    std::lock_guard lock(mutex_);
    sources_.push_back(std::move(source));
}

void Metrics::clear_sources() {
    std::lock_guard lock(mutex_);
    sources_.clear();
}

std::string Metrics::render() {
    std::ostringstream out;
    std::vector<std::function<std::string()>> sources;
    {
        std::lock_guard lock(mutex_);
        out << "# HELP drover_http_requests_total Requests answered, by route template and status.\n"
               "# TYPE drover_http_requests_total counter\n";
        for (const auto& [route, r] : routes_) {
            for (const auto& [status, n] : r.by_status) {
                out << "drover_http_requests_total{route=\"" << route << "\",status=\"" << status << "\"} " << n
                    << "\n";
            }
        }
        out << "# HELP drover_http_request_duration_seconds Time from routing to the reply being sent.\n"
               "# TYPE drover_http_request_duration_seconds histogram\n";
        for (const auto& [route, r] : routes_) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < bounds.size(); ++i) {
                cumulative += r.buckets[i];
                out << "drover_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << bounds[i]
                    << "\"} " << cumulative << "\n";
            }
            cumulative += r.buckets.back();
            out << "drover_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << cumulative
                << "\n";
            out << "drover_http_request_duration_seconds_sum{route=\"" << route << "\"} " << r.sum_s << "\n";
            out << "drover_http_request_duration_seconds_count{route=\"" << route << "\"} " << r.count << "\n";
        }
        out << "# HELP drover_api_uptime_seconds Seconds since this process started serving.\n"
               "# TYPE drover_api_uptime_seconds gauge\n"
            << "drover_api_uptime_seconds "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count() << "\n";
        sources = sources_;
    }
    for (const auto& source : sources) out << source();
    return out.str();
}

std::function<std::string()> pool_and_auth_gauges(DbExecutor& db, Authenticator& auth) {
    return [&db, &auth] {
        auto use = db.use();
        std::ostringstream out;
        auto gauge = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
            out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
                << name << " " << value << "\n";
        };
        gauge("drover_api_db_connections", "gauge", "Database connections (and threads) of the API's query pool.",
              use.connections);
        gauge("drover_api_db_busy", "gauge", "Pool connections running a query now.", use.busy);
        gauge("drover_api_db_queued", "gauge", "Requests waiting for a pool connection.", use.queued);
        gauge("drover_api_db_rejected_total", "counter",
              "Requests answered 503 because the pool's queue was full.", use.rejected);
        out << "# HELP drover_api_db_wait_seconds Time requests waited in the queue for a pool connection.\n"
               "# TYPE drover_api_db_wait_seconds histogram\n";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < DbExecutor::wait_bounds.size(); ++i) {
            cumulative += use.wait_buckets[i];
            out << "drover_api_db_wait_seconds_bucket{le=\"" << DbExecutor::wait_bounds[i] << "\"} " << cumulative
                << "\n";
        }
        cumulative += use.wait_buckets.back();
        out << "drover_api_db_wait_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n"
            << "drover_api_db_wait_seconds_sum " << use.wait_sum_s << "\n"
            << "drover_api_db_wait_seconds_count " << cumulative << "\n";
        gauge("drover_auth_cache_hits_total", "counter", "Requests whose key was decided from the cache.",
              auth.cache_hits());
        gauge("drover_auth_lookups_total", "counter", "Key lookups in the database.", auth.lookups());
        return out.str();
    };
}

std::string label_value(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string job_metrics(db::Connection& conn) {
    std::ostringstream out;
    auto jobs = conn.query("metrics/jobs_by_status", db::Params());
    out << "# HELP drover_jobs Jobs in the database, by queue and status.\n# TYPE drover_jobs gauge\n";
    for (int i = 0; i < jobs.rows(); ++i) {
        out << "drover_jobs{queue=\"" << label_value(jobs.text(i, 0)) << "\",status=\"" << jobs.text(i, 1) << "\"} "
            << jobs.int64(i, 2) << "\n";
    }
    // Start delays: a sample recomputed at each scrape, not a running count,
    // so read it with histogram_quantile() on the buckets as scraped, not
    // through rate().
    static constexpr double bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
    std::string array = "{";
    for (double b : bounds) array += (array.size() > 1 ? "," : "") + std::to_string(b);
    array += "}";
    auto delays = conn.query("metrics/start_delays", db::Params().add(array));
    out << "# HELP drover_job_start_delay_seconds From due (enqueued, scheduled or retry time) to started, over the "
           "newest 10,000 jobs that started (a sample taken at each scrape).\n"
           "# TYPE drover_job_start_delay_seconds histogram\n";
    std::int64_t total = 0;
    std::string sum = "0";
    for (int i = 0; i < delays.rows(); ++i) {
        out << "drover_job_start_delay_seconds_bucket{le=\"" << bounds[i] << "\"} " << delays.int64(i, 1) << "\n";
        total = delays.int64(i, 2);
        sum = std::string(delays.text(i, 3));
    }
    out << "drover_job_start_delay_seconds_bucket{le=\"+Inf\"} " << total << "\n"
        << "drover_job_start_delay_seconds_sum " << sum << "\n"
        << "drover_job_start_delay_seconds_count " << total << "\n";
    return out.str();
}

}  // namespace drover::api
