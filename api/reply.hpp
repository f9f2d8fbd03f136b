#pragma once
// What a handler answers: status, JSON body and extra headers. Handlers build
// a Reply; only the executor and the router's adapters touch Pistache's writer.
#include <pistache/http_defs.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace drover::api {

struct Reply {
    Pistache::Http::Code code = Pistache::Http::Code::Ok;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string content_type = "application/json";  // the docs page and /metrics are not JSON
};

// Per-request facts every handler gets. The authenticator (api/auth/) fills
// `app`, `role` and `key_id` from the request's API key before a handler runs.
struct RequestContext {
    std::string request_id;
    std::string app = "default";
    std::string role = "";    // read, submit, admin or operator ("" before authentication)
    std::int64_t key_id = 0;  // 0: no key (health routes, DROVER_AUTH=off)
    std::string route = "";   // "GET /v1/jobs/:id", for metrics ("": no route matched)
    std::chrono::steady_clock::time_point started{};
};

}  // namespace drover::api
