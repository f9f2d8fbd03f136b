#pragma once
// What a handler answers: status, JSON body and extra headers. Handlers build
// a Reply; only the executor and the router's adapters touch Pistache's writer.
#include <pistache/http_defs.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace drover::api {

// A body too large to hold in memory (file downloads, artifacts.zip): the
// reply writer pulls one chunk at a time, the next only once the previous one
// is on the wire, so memory stays at one chunk per download whatever the size.
// next() runs on a reactor thread: it must not wait on anything but the disk.
class BodySource {
public:
    virtual ~BodySource() = default;
    // Fills `chunk` (non-empty) and returns true, or returns false at the end.
    // Throwing aborts the answer: the connection is closed short of its length.
    virtual bool next(std::string& chunk) = 0;
};

struct Reply {
    Pistache::Http::Code code = Pistache::Http::Code::Ok;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string content_type = "application/json";  // the docs page and /metrics are not JSON
    // When set, the body comes from here instead of `body`: `stream_size`
    // bytes with Content-Length, or chunked transfer encoding when it is -1.
    std::shared_ptr<BodySource> stream = nullptr;
    std::int64_t stream_size = -1;
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
