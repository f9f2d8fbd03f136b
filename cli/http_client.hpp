#pragma once
// The CLI's HTTP client: libcurl (easy interface), one request at a time.
// Used by drover start/status (readiness, /status) and the client commands.
#include <optional>
#include <string>

namespace drover::cli {

struct HttpResult {
    long status = 0;      // 0: no HTTP answer (see error)
    std::string body;
    std::string error;    // curl's message when status is 0
};

// GET (or another method with a JSON body) url; bearer: an API key or "".
HttpResult http_call(const std::string& method, const std::string& url, const std::string& bearer,
                     const std::string& body = {}, long timeout_ms = 10000);

}  // namespace drover::cli
