#include "api/server.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cstring>

#include "api/request_guard.hpp"
#include "api/metrics.hpp"
#include "api/router.hpp"
#include "core/error.hpp"

namespace drover::api {

using namespace Pistache;

namespace {

// DROVER_ROOT_PATH: "" or "/a/b" (no trailing slash, URL-safe characters).
std::string root_path(const Config& config) {
    const auto& root = config.str("root_path");
    if (root.empty()) return root;
    bool ok = root.size() > 1 && root.front() == '/' && root.back() != '/' && root.find("//") == std::string::npos;
    for (char c : root) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("/-._~", c));
    if (!ok) {
        throw ConfigError("DROVER_ROOT_PATH must look like /drover (a leading slash, no trailing one), got '" + root +
                          "'");
    }
    return root;
}

Authenticator::Options auth_options(const Config& config) {
    const auto& mode = config.str("auth");
    if (mode != "on" && mode != "off") throw ConfigError("DROVER_AUTH must be 'on' or 'off', got '" + mode + "'");
    auto ttl = config.integer("auth_cache_ms");
    if (ttl > 1000) throw ConfigError("DROVER_AUTH_CACHE_MS must be at most 1000, got " + std::to_string(ttl));
    Authenticator::Options o;
    o.enabled = mode == "on";
    o.cache_ttl = std::chrono::milliseconds(ttl);
    o.database_url = config.str("database_url");
    o.statement_timeout_ms = static_cast<int>(config.integer("statement_timeout_ms"));
    o.queue_limit = static_cast<std::size_t>(config.integer("api_queue_limit"));
    return o;
}

}  // namespace

Server::Server(const Config& config, KindRegistry kinds)
    : kinds_(std::move(kinds)),
      db_(config.str("database_url"), static_cast<int>(config.integer("api_db_connections")),
          static_cast<std::size_t>(config.integer("api_queue_limit")),
          static_cast<int>(config.integer("statement_timeout_ms"))),
      long_poll_(db_, config.str("database_url")),
      health_(db_),
      jobs_(db_, kinds_, root_path(config), &long_poll_),
      keys_(db_),
      status_(db_),
      admin_(db_),
      auth_(auth_options(config)) {
    add_routes(router_, Handlers{health_, jobs_, keys_, status_, docs_}, auth_, root_path(config));
    add_admin_routes(admin_router_, admin_, auth_);
    Address address(config.str("host"), Port(static_cast<std::uint16_t>(config.integer("port"))));
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(static_cast<int>(config.integer("api_threads")))
                       .flags(Tcp::Options::ReuseAddr)
                       .maxRequestSize(static_cast<std::size_t>(config.integer("max_request_bytes")))
                       // Slow clients lose their connection instead of holding it.
                       .headerTimeout(std::chrono::seconds(10))
                       .bodyTimeout(std::chrono::seconds(30));
    endpoint_->init(options);
    // The router's handler behind a guard that checks each request's headers
    // before Pistache parses them (see request_guard.hpp).
    endpoint_->setHandler(guarded_handler(router_));

    // The admin listener: its own address (loopback by default), one thread.
    Address admin_address(config.str("admin_host"),
                          Port(static_cast<std::uint16_t>(config.integer("admin_port"))));
    admin_endpoint_ = std::make_unique<Http::Endpoint>(admin_address);
    admin_endpoint_->init(Http::Endpoint::options()
                              .threads(1)
                              .flags(Tcp::Options::ReuseAddr)
                              .maxRequestSize(static_cast<std::size_t>(config.integer("max_request_bytes")))
                              .headerTimeout(std::chrono::seconds(10))
                              .bodyTimeout(std::chrono::seconds(30)));
    admin_endpoint_->setHandler(guarded_handler(admin_router_));

    // Gauges read when /metrics is scraped.
    Metrics::global().add_source([this] {
        auto use = db_.use();
        std::string out =
            "# HELP drover_api_db_connections Database connections (and threads) of the API's query pool.\n"
            "# TYPE drover_api_db_connections gauge\n"
            "drover_api_db_connections " + std::to_string(use.connections) + "\n"
            "# HELP drover_api_db_busy Pool connections running a query now.\n"
            "# TYPE drover_api_db_busy gauge\n"
            "drover_api_db_busy " + std::to_string(use.busy) + "\n"
            "# HELP drover_api_db_queued Requests waiting for a pool connection.\n"
            "# TYPE drover_api_db_queued gauge\n"
            "drover_api_db_queued " + std::to_string(use.queued) + "\n"
            "# HELP drover_auth_cache_hits_total Requests whose key was decided from the cache.\n"
            "# TYPE drover_auth_cache_hits_total counter\n"
            "drover_auth_cache_hits_total " + std::to_string(auth_.cache_hits()) + "\n"
            "# HELP drover_auth_lookups_total Key lookups in the database.\n"
            "# TYPE drover_auth_lookups_total counter\n"
            "drover_auth_lookups_total " + std::to_string(auth_.lookups()) + "\n";
        return out;
    });
}

Server::~Server() { shutdown(); }

void Server::start() {
    endpoint_->serveThreaded();
    admin_endpoint_->serveThreaded();
}

void Server::shutdown() {
    if (stopped_) return;
    stopped_ = true;
    endpoint_->shutdown();
    admin_endpoint_->shutdown();
    Metrics::global().clear_sources();
    long_poll_.stop();  // answers the parked requests, through db_
    auth_.stop();
    db_.stop();
}

std::uint16_t Server::port() const { return static_cast<std::uint16_t>(endpoint_->getPort()); }

std::uint16_t Server::admin_port() const { return static_cast<std::uint16_t>(admin_endpoint_->getPort()); }

}  // namespace drover::api
