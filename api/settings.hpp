#pragma once
// The API's settings that need more than reading (config.cpp holds the
// table): checked here, so that a bad value stops drover-api at start with
// ConfigError (exit code 2).
#include <string>

#include "api/auth/authenticator.hpp"
#include "core/config.hpp"

namespace drover::api {

// DROVER_ROOT_PATH: "" or "/a/b" (a leading slash, no trailing one, URL-safe characters).
std::string root_path(const Config& config);
// DROVER_AUTH (on|off), DROVER_AUTH_CACHE_MS (at most 1000) and what the authenticator shares with the pool.
Authenticator::Options auth_options(const Config& config);

}  // namespace drover::api
