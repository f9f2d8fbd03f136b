#include "api/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>

#include "api/request_guard.hpp"
#include "api/router.hpp"

namespace drover::api {

using namespace Pistache;

Server::Server(const Config& config, KindRegistry kinds)
    : kinds_(std::move(kinds)),
      db_(config.str("database_url"), static_cast<int>(config.integer("api_db_connections")),
          static_cast<std::size_t>(config.integer("api_queue_limit")),
          static_cast<int>(config.integer("statement_timeout_ms"))),
      health_(db_),
      jobs_(db_, kinds_) {
    db_.set_commit_check_wait(std::chrono::milliseconds(config.integer("commit_check_ms")));
    add_routes(router_, Handlers{health_, jobs_});
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
    connections_ = std::make_shared<http::ConnectionRegistry>(limits);
    Address address(config.str("host"), Port(static_cast<std::uint16_t>(config.integer("port"))));
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(static_cast<int>(config.integer("api_threads")))
                       .flags(Tcp::Options::ReuseAddr)
                       .maxRequestSize(static_cast<std::size_t>(config.integer("max_request_bytes")))
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
    endpoint_->setHandler(guarded_handler(router_, connections_));
}

Server::~Server() { shutdown(); }

void Server::start() { endpoint_->serveThreaded(); }

void Server::shutdown() {
    if (stopped_) return;
    stopped_ = true;
    endpoint_->shutdown();
    db_.stop();
    connections_->stop();
}

std::uint16_t Server::port() const { return static_cast<std::uint16_t>(endpoint_->getPort()); }

}  // namespace drover::api
