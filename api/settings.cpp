#include "api/settings.hpp"

#include <cctype>
#include <cstring>

#include "core/error.hpp"

namespace drover::api {

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
    // The settings table already holds DROVER_AUTH to on|off and the cache to 0-1000 ms.
    Authenticator::Options o;
    o.enabled = config.str("auth") == "on";
    o.cache_ttl = std::chrono::milliseconds(config.integer("auth_cache_ms"));
    o.database_url = config.str("database_url");
    o.statement_timeout_ms = static_cast<int>(config.integer("statement_timeout_ms"));
    o.queue_limit = static_cast<std::size_t>(config.integer("api_queue_limit"));
    return o;
}

}  // namespace drover::api
