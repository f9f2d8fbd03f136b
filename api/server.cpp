#include "api/server.hpp"

#include <spdlog/spdlog.h>

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
    add_routes(router_, Handlers{health_, jobs_});
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
}

Server::~Server() { shutdown(); }

void Server::start() { endpoint_->serveThreaded(); }

void Server::shutdown() {
    if (stopped_) return;
    stopped_ = true;
    endpoint_->shutdown();
    db_.stop();
}

std::uint16_t Server::port() const { return static_cast<std::uint16_t>(endpoint_->getPort()); }

}  // namespace drover::api
