#include "api/server.hpp"

#include <spdlog/spdlog.h>

#include "api/request_guard.hpp"
#include "api/metrics.hpp"
#include "api/router.hpp"
#include "api/settings.hpp"

namespace drover::api {

using namespace Pistache;

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
}

std::uint16_t Server::port() const { return static_cast<std::uint16_t>(endpoint_->getPort()); }

std::uint16_t Server::admin_port() const { return static_cast<std::uint16_t>(admin_endpoint_->getPort()); }

}  // namespace drover::api
