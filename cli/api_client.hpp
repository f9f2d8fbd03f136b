#pragma once
// The client commands' view of the REST API: where it is (URL and key), one
// call that answers a 2xx body or throws, and the two ways a call fails:
// the API answered with an error (ApiError, its status and message) or
// nothing answered at all (Unreachable). drover exits 2 and 3 for them.
#include <stdexcept>
#include <string>
#include <string_view>

#include "cli/http_client.hpp"

namespace drover::cli {

struct Target {
    std::string url;  // no trailing '/'
    std::string key;
};

class ApiError : public std::runtime_error {
public:
    ApiError(long status, const std::string& what) : std::runtime_error(what), status(status) {}
    long status;
};

class Unreachable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The body of a 2xx answer; anything else throws ApiError or Unreachable.
std::string api_call(const Target& t, const std::string& method, const std::string& path, std::string_view body = {},
                     long timeout_ms = 30000, const std::string& content_type = {});

// Throws ApiError / Unreachable for a result that is not 2xx (`what`: "GET /v1/…").
void expect_success(const HttpResult& r, const std::string& what);

// Percent-encodes what cannot stand in a path segment or query value.
std::string escape(const std::string& s);

}  // namespace drover::cli
