#pragma once
// A deliberately small HTTP/1.1 client over a plain socket, for tests: it can
// send exactly the bytes a test wants (malformed requests included) and reads
// one response (Content-Length or chunked bodies).
#include <map>
#include <optional>
#include <string>

namespace drover::test {

struct HttpResponse {
    int status = 0;  // 0: no response (connection closed or timed out)
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

// Parses the response at the start of `data` into `out`; returns how many
// bytes it took once it is complete (status line, headers and the
// Content-Length body), nothing while more is needed.
std::optional<std::size_t> parse_http_response(const std::string& data, HttpResponse& out);

// Sends raw bytes to 127.0.0.1:port and reads one response.
HttpResponse http_raw(int port, const std::string& request, int timeout_ms = 10000);
// The API key every DroverStack database holds (app "default", role admin),
// and the operator key of its admin listener; see DroverStack.
extern const char* const default_api_key;
extern const char* const default_operator_key;

// A well-formed request with an optional JSON body, sent with
// "Authorization: Bearer <default_api_key>".
HttpResponse http_request(int port, const std::string& method, const std::string& path,
                          const std::string& body = {}, const std::string& content_type = "application/json");
// The same with the key of your choice ("": no Authorization header at all).
HttpResponse http_request_as(const std::string& api_key, int port, const std::string& method,
                             const std::string& path, const std::string& body = {},
                             const std::string& content_type = "application/json");

}  // namespace drover::test
