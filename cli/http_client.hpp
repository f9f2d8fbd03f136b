#pragma once
// The CLI's HTTP client: libcurl (easy interface), one request at a time.
// Used by drover start/status (readiness, /status) and the client commands.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace drover::cli {

struct HttpResult {
    long status = 0;    // 0: no HTTP answer (see error)
    std::string body;   // empty when a sink took the body
    std::string error;  // curl's message when status is 0, or the sink's refusal
};

// GET (or another method with a JSON body) url; bearer: an API key or "".
HttpResult http_call(const std::string& method, const std::string& url, const std::string& bearer,
                     const std::string& body = {}, long timeout_ms = 10000);

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::string bearer;
    std::string_view body;     // sent as is (binary safe)
    std::string content_type;  // "" with no body: none
    long timeout_ms = 10000;
    // When set, a 2xx body goes here chunk by chunk instead of into
    // HttpResult::body; returning false aborts the transfer.
    std::function<bool(std::string_view)> sink;
};

HttpResult http_send(const HttpRequest& request);

}  // namespace drover::cli
