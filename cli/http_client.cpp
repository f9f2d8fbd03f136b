#include "cli/http_client.hpp"

#include <curl/curl.h>

#include <memory>

namespace drover::cli {
namespace {

std::size_t append(char* data, std::size_t size, std::size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

// curl_global_init is not thread-safe; the CLI calls it once, first.
struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
};

}  // namespace

HttpResult http_call(const std::string& method, const std::string& url, const std::string& bearer,
                     const std::string& body, long timeout_ms) {
    static CurlGlobal global;
    HttpResult result;
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) {
        result.error = "curl_easy_init failed";
        return result;
    }
    curl_slist* headers = nullptr;
    std::string auth = "Authorization: Bearer " + bearer;
    if (!bearer.empty()) headers = curl_slist_append(headers, auth.c_str());
    // Pistache ignores Expect: 100-continue; curl would wait 1 s for it.
    headers = curl_slist_append(headers, "Expect:");
    if (!body.empty() || method == "POST") headers = curl_slist_append(headers, "Content-Type: application/json");
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
    char error[CURL_ERROR_SIZE] = "";

    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (!body.empty() || method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        result.error = error[0] ? error : curl_easy_strerror(rc);
        result.body.clear();
        return result;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
    return result;
}

}  // namespace drover::cli
