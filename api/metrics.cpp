#include "api/metrics.hpp"

#include <sstream>

#include "api/auth/authenticator.hpp"
#include "api/db_executor.hpp"

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
        gauge("drover_auth_cache_hits_total", "counter", "Requests whose key was decided from the cache.",
              auth.cache_hits());
        gauge("drover_auth_lookups_total", "counter", "Key lookups in the database.", auth.lookups());
        return out.str();
    };
}

}  // namespace drover::api
