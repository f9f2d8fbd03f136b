#include "cli/api_client.hpp"

#include <cctype>

#include "core/json.hpp"
#include "core/percent_encoding.hpp"

namespace drover::cli {

void expect_success(const HttpResult& r, const std::string& what) {
    if (r.status == 0) throw Unreachable(what + ": " + r.error);
    if (r.status >= 200 && r.status < 300) return;
    std::string message = r.body;
    try {
        auto doc = json::parse(r.body);
        if (doc.IsObject() && doc.HasMember("error") && doc["error"].IsObject() && doc["error"].HasMember("message") &&
            doc["error"]["message"].IsString()) {
            message = doc["error"]["message"].GetString();
        }
    } catch (const std::exception&) {
    }
    throw ApiError(r.status, what + ": " + std::to_string(r.status) + " " + message);
}

std::string api_call(const Target& t, const std::string& method, const std::string& path, std::string_view body,
                     long timeout_ms, const std::string& content_type) {
    HttpRequest request;
    request.method = method;
    request.url = t.url + path;
    request.bearer = t.key;
    request.body = body;
    request.content_type = content_type;
    request.timeout_ms = timeout_ms;
    auto r = http_send(request);
    expect_success(r, method + " " + (r.status == 0 ? t.url : "") + path);
    return std::move(r.body);
}

// The characters of statuses lists, kinds and RFC 3339 times (",", ":") stay
// as they are, since the API reads query values undecoded.
std::string escape(const std::string& s) {
    // , and : stay as they are: lists (status=a,b) and timestamps read better.
    return percent_encode(s, ",:");
}

}  // namespace drover::cli
