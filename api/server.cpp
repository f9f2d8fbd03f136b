#include "api/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>

#include "api/request_guard.hpp"
#include "api/metrics.hpp"
#include "api/router.hpp"
#include "api/settings.hpp"

namespace drover::api {

using namespace Pistache;

namespace {

UploadsHandler::Options upload_options(const Config& config) {
    UploadsHandler::Options o;
    o.storage_root = storage::storage_root(config);
    o.limits.max_entries = static_cast<std::uint64_t>(config.integer("max_upload_entries"));
    o.limits.max_uncompressed_bytes = static_cast<std::uint64_t>(config.integer("max_upload_uncompressed_bytes"));
    o.max_storage_bytes = config.integer("max_storage_bytes");
    o.root_path = config.str("root_path");
    o.max_part_bytes = config.integer("max_upload_part_bytes");
    o.max_parted_bytes = config.integer("max_parted_upload_bytes");
    o.session_ttl_s = std::max<std::int64_t>(1, config.integer("upload_session_ttl_s"));
    o.eviction_target_percent = static_cast<int>(std::min<std::int64_t>(100, config.integer("eviction_target_percent")));
    return o;
}

// POST /v1/uploads may carry up to DROVER_MAX_UPLOAD_BYTES of body (plus
// headers), a part of a parted upload DROVER_MAX_UPLOAD_PART_BYTES; every
// other request keeps DROVER_MAX_REQUEST_BYTES.
constexpr std::size_t upload_header_allowance = 64 * 1024;

RequestLimits request_limits(const Config& config) {
    RequestLimits limits;
    limits.normal = static_cast<std::size_t>(config.integer("max_request_bytes"));
    auto upload = static_cast<std::size_t>(config.integer("max_upload_bytes")) + upload_header_allowance;
    limits.large.emplace_back("POST " + config.str("root_path") + "/v1/uploads ", std::max(upload, limits.normal));
    auto part = static_cast<std::size_t>(config.integer("max_upload_part_bytes")) + upload_header_allowance;
    limits.large.emplace_back("PUT " + config.str("root_path") + "/v1/uploads/sessions/", std::max(part, limits.normal));
    return limits;
}

std::size_t endpoint_max(const RequestLimits& limits) {
    std::size_t max = limits.normal;
    for (const auto& [prefix, limit] : limits.large) max = std::max(max, limit);
    return max;
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
      status_(db_, &long_poll_),
      admin_(db_),
      uploads_(db_, upload_options(config)),
      artifacts_(db_, storage::storage_root(config)),
      drs_(db_, config.str("public_url"), root_path(config)),
      storage_admin_(db_, StorageSweepSettings::from(config)),
      auth_(auth_options(config)) {
    db_.set_commit_check_wait(std::chrono::milliseconds(config.integer("commit_check_ms")));
    add_routes(router_, Handlers{health_, jobs_, keys_, status_, docs_, uploads_, artifacts_, drs_}, auth_,
               root_path(config));
    add_admin_routes(admin_router_, admin_, auth_, &storage_admin_);
    const auto request_caps = request_limits(config);
    // The connection cap stays below the open-file limit (main raised it as
    // far as allowed), leaving room for database connections, logs and the
    // listening socket: past the limit, accept() fails and Pistache's reactor
    // spins on it (0.96 of a core, every new client locked out).
    auto cap = static_cast<std::size_t>(config.integer("max_connections"));
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
        auto reserve = static_cast<rlim_t>(64 + config.integer("api_db_connections"));
        auto room = files.rlim_cur > reserve + 16 ? files.rlim_cur - reserve : 16;
        if (room < cap) {
            spdlog::warn("DROVER_MAX_CONNECTIONS={} is over what the open-file limit ({}) allows; using {}", cap,
                         files.rlim_cur, room);
            cap = static_cast<std::size_t>(room);
        }
    }
    http::ConnectionLimits limits;
    limits.max_connections = cap;
    limits.keepalive_timeout = std::chrono::seconds(config.integer("keepalive_timeout_s"));
    limits.send_timeout = std::chrono::seconds(config.integer("send_timeout_s"));
    connections_ = std::make_shared<http::ConnectionRegistry>(limits);
    // The admin listener's own: a few operators, never the public's crowd.
    http::ConnectionLimits admin_limits;
    admin_limits.max_connections = std::min<std::size_t>(cap, 64);
    admin_limits.keepalive_timeout = limits.keepalive_timeout;
    admin_limits.send_timeout = limits.send_timeout;
    admin_connections_ = std::make_shared<http::ConnectionRegistry>(admin_limits);
    Address address(config.str("host"), Port(static_cast<std::uint16_t>(config.integer("port"))));
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(static_cast<int>(config.integer("api_threads")))
                       .flags(Tcp::Options::ReuseAddr)
                       .maxRequestSize(endpoint_max(request_caps))
                       // Slow and idle clients are timed out by the connection
                       // registry (10 s for headers, 30 s for a body, then a JSON
                       // 408; DROVER_KEEPALIVE_TIMEOUT_S when idle). Pistache's own
                       // timers only see whole requests (the guard buffers them)
                       // and, as Drover writes its answers itself, are never reset:
                       // at 10 s they sent a plain 408 to every kept-alive
                       // connection. They stay as a distant backstop.
                       .headerTimeout(std::chrono::hours(24))
                       .bodyTimeout(std::chrono::hours(24))
                       .keepaliveTimeout(std::chrono::hours(24));
    endpoint_->init(options);
    // The router's handler behind a guard that checks each request's headers
    // before Pistache parses them (see request_guard.hpp).
    endpoint_->setHandler(guarded_handler(router_, connections_, request_caps));

    // The admin listener: its own address (loopback by default), one thread,
    // the same guard and timers as the public one.
    Address admin_address(config.str("admin_host"),
                          Port(static_cast<std::uint16_t>(config.integer("admin_port"))));
    admin_endpoint_ = std::make_unique<Http::Endpoint>(admin_address);
    admin_endpoint_->init(Http::Endpoint::options()
                              .threads(1)
                              .flags(Tcp::Options::ReuseAddr)
                              .maxRequestSize(static_cast<std::size_t>(config.integer("max_request_bytes")))
                              .headerTimeout(std::chrono::hours(24))
                              .bodyTimeout(std::chrono::hours(24))
                              .keepaliveTimeout(std::chrono::hours(24)));
    admin_endpoint_->setHandler(guarded_handler(admin_router_, admin_connections_));

    Metrics::global().add_source(pool_and_auth_gauges(db_, auth_));
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
    connections_->stop();
    admin_connections_->stop();
}

std::uint16_t Server::port() const { return static_cast<std::uint16_t>(endpoint_->getPort()); }

std::uint16_t Server::admin_port() const { return static_cast<std::uint16_t>(admin_endpoint_->getPort()); }

}  // namespace drover::api
