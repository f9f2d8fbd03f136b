#pragma once
// A deliberately small HTTP/1.1 client over a plain socket, for tests: it can
// send exactly the bytes a test wants (malformed requests included) and reads
// one response (Content-Length bodies, which is all Drover sends).
#include <map>
#include <string>

namespace drover::test {

struct HttpResponse {
    int status = 0;  // 0: no response (connection closed or timed out)
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

// Sends raw bytes to 127.0.0.1:port and reads one response.
HttpResponse http_raw(int port, const std::string& request, int timeout_ms = 10000);
// A well-formed request with an optional JSON body.
HttpResponse http_request(int port, const std::string& method, const std::string& path,
                          const std::string& body = {}, const std::string& content_type = "application/json");

}  // namespace drover::test
