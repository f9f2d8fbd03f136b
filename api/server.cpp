#include "api/server.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cstring>

#include "api/request_guard.hpp"
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
      health_(db_),
      jobs_(db_, kinds_, root_path(config)),
      keys_(db_),
      status_(db_),
      admin_(db_),
      uploads_(db_, upload_options(config)),
      artifacts_(db_, storage::storage_root(config)),
      drs_(db_, config.str("public_url"), root_path(config)),
      storage_admin_(db_, StorageSweepSettings::from(config)),
      auth_(auth_options(config)) {
    add_routes(router_, Handlers{health_, jobs_, keys_, status_, uploads_, artifacts_, drs_}, auth_, root_path(config));
    add_admin_routes(admin_router_, admin_, auth_, &storage_admin_);
    const auto limits = request_limits(config);
    Address address(config.str("host"), Port(static_cast<std::uint16_t>(config.integer("port"))));
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(static_cast<int>(config.integer("api_threads")))
                       .flags(Tcp::Options::ReuseAddr)
                       .maxRequestSize(endpoint_max(limits))
                       // Slow clients lose their connection instead of holding it.
                       .headerTimeout(std::chrono::seconds(10))
                       .bodyTimeout(std::chrono::seconds(30));
    endpoint_->init(options);
    // The router's handler behind a guard that checks each request's headers
    // before Pistache parses them (see request_guard.hpp).
    endpoint_->setHandler(guarded_handler(router_, limits));

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
    auth_.stop();
    db_.stop();
}

std::uint16_t Server::port() const { return static_cast<std::uint16_t>(endpoint_->getPort()); }

std::uint16_t Server::admin_port() const { return static_cast<std::uint16_t>(admin_endpoint_->getPort()); }

}  // namespace drover::api
