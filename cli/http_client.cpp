#include "cli/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

namespace drover::cli {
namespace {

struct Receiver {
    CURL* curl = nullptr;
    std::string* body = nullptr;
    const std::function<bool(std::string_view)>* sink = nullptr;
    bool refused = false;
};

std::size_t receive(char* data, std::size_t size, std::size_t count, void* opaque) {
    auto* r = static_cast<Receiver*>(opaque);
    std::size_t n = size * count;
    long status = 0;
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
    // Only a successful answer goes to the sink; an error body is read whole.
    if (r->sink && *r->sink && status >= 200 && status < 300) {
        if (!(*r->sink)(std::string_view(data, n))) {
            r->refused = true;
            return 0;  // aborts the transfer
        }
        return n;
    }
    r->body->append(data, n);
    return n;
}

// curl_global_init is not thread-safe; the CLI calls it once, first.
struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
};

}  // namespace

HttpResult http_send(const HttpRequest& request) {
    static CurlGlobal global;
    HttpResult result;
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) {
        result.error = "curl_easy_init failed";
        return result;
    }
    const bool sends_body = !request.body.empty() || request.method == "POST" || request.method == "PUT";
    curl_slist* headers = nullptr;
    std::string auth = "Authorization: Bearer " + request.bearer;
    if (!request.bearer.empty()) headers = curl_slist_append(headers, auth.c_str());
    // Pistache ignores Expect: 100-continue; curl would wait 1 s for it.
    headers = curl_slist_append(headers, "Expect:");
    std::string type = "Content-Type: " + (request.content_type.empty() ? "application/json" : request.content_type);
    if (sends_body) headers = curl_slist_append(headers, type.c_str());
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
    char error[CURL_ERROR_SIZE] = "";

    CURL* c = curl.get();
    Receiver receiver{c, &result.body, &request.sink};
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (sends_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, receive);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &receiver);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(request.timeout_ms, 10000L));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    CURLcode rc = curl_easy_perform(c);
    if (receiver.refused) {
        result.error = "the download was refused by its writer";
        result.body.clear();
        return result;
    }
    if (rc != CURLE_OK) {
        result.error = error[0] ? error : curl_easy_strerror(rc);
        result.body.clear();
        return result;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
    return result;
}

HttpResult http_call(const std::string& method, const std::string& url, const std::string& bearer,
                     const std::string& body, long timeout_ms) {
    HttpRequest r;
    r.method = method;
    r.url = url;
    r.bearer = bearer;
    r.body = body;
    r.timeout_ms = timeout_ms;
    return http_send(r);
}

}  // namespace drover::cli
