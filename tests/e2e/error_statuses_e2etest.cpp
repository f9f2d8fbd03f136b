// One error shape for every status the API answers with: each case makes
// the API answer one status on the routes of issue 8 (400, 401, 403, 404,
// 405, 409, 413, 415, 422, 429, 431; 503 is in commit_outcome_e2etest and
// front_door_e2etest) and checks the JSON
// error body ({"error": {"code", "message", "field"?, "request_id"}}), the
// headers that go with it, and that nothing was written.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "core/store/app_store.hpp"
#include "core/store/key_store.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    test::DroverStack stack;
    db::Connection c = stack.database().connect();
    Fixture() { stack.start_api({{"DROVER_MAX_REQUEST_BYTES", "65536"}}); }

    std::int64_t rows() {
        return e2e::scalar(c, "SELECT (SELECT count(*) FROM drover.jobs) + (SELECT count(*) FROM drover.api_keys)"
                              " + (SELECT count(*) FROM drover.apps)");
    }
};

struct Case {
    const char* name;
    int port_kind;  // 0 public, 1 admin
    std::string method, path, body, key;
    int status;
    const char* code;  // nullptr: not checked
    std::string content_type = "application/json";
    std::string extra_header = "";
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(error_statuses_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(every_status_has_the_one_error_shape_and_writes_nothing) {
    KeyStore ks(c);
    auto read_key = ks.create("default", Role::read).plaintext;
    AppStore(c).create("tight", AppLimits{0, 1});
    auto tight_key = ks.create("tight", Role::submit).plaintext;
    auto done = std::string(c.exec("SELECT (drover.enqueue('noop')).id").text(0, 0));
    c.exec("UPDATE drover.jobs SET status = 'succeeded', finished_at = now() WHERE id = " + done);
    const std::string key = test::default_api_key;
    const std::string op = test::default_operator_key;
    std::string big(70000, 'x');
    std::vector<Case> cases = {
        {"400 malformed batch", 0, "POST", "/v1/jobs/batch", "{\"jobs\": [", key, 400, "malformed_json"},
        {"400 malformed app", 1, "POST", "/maintenance/apps", "{", op, 400, "malformed_json"},
        {"401 no key", 0, "GET", "/v1/jobs", "", "", 401, "unauthorized"},
        {"403 read key deletes", 0, "DELETE", "/v1/jobs/" + done, "", read_key, 403, "forbidden"},
        {"403 app key on admin", 1, "GET", "/maintenance/apps", "", key, 403, "forbidden"},
        {"404 unknown job retry", 0, "POST", "/v1/jobs/987654321/retry", "", key, 404, "not_found"},
        {"404 admin route on public", 0, "GET", "/maintenance/apps", "", op, 404, "no_route"},
        {"405 wrong method", 0, "PUT", "/v1/jobs/batch", "{}", key, 405, nullptr},
        {"409 retry a success", 0, "POST", "/v1/jobs/" + done + "/retry", "", key, 409, "not_retryable"},
        {"409 app exists", 1, "POST", "/maintenance/apps", R"({"name": "tight"})", op, 409, "already_exists"},
        {"413 batch over the request limit", 0, "POST", "/v1/jobs/batch",
         R"({"jobs": [{"kind": "noop", "unique_key": ")" + big + "\"}]}", key, 413, nullptr},
        {"415 a form body to a JSON route", 0, "POST", "/v1/jobs", R"({"kind": "noop"})", key, 415,
         "unsupported_media_type", "application/x-www-form-urlencoded"},
        {"415 JSON to the uploads route", 0, "POST", "/v1/uploads", "{}", key, 415, "unsupported_media_type"},
        {"415 text to an admin route", 1, "POST", "/maintenance/apps", R"({"name": "x"})", op, 415,
         "unsupported_media_type", "text/plain"},
        {"431 header section over 16 KiB", 0, "GET", "/v1/jobs", "", key, 431, "headers_too_large",
         "application/json", "X-Big: " + std::string(20000, 'h') + "\r\n"},
        {"422 bad limit", 0, "GET", "/v1/jobs?limit=0", "", key, 422, "invalid_value"},
        {"422 bad role", 0, "POST", "/v1/keys", R"({"role": "operator"})", key, 422, "invalid_value"},
        {"429 app at its job limit", 0, "POST", "/v1/jobs", R"({"kind": "noop"})", tight_key, 429,
         "app_limit_reached"},
    };
    for (const auto& k : cases) {
        auto before = rows();
        std::string extra = k.key.empty() ? "" : "Authorization: Bearer " + k.key + "\r\n";
        std::string req = k.method + " " + k.path + " HTTP/1.1\r\nHost: x\r\n" + extra + k.extra_header;
        if (!k.body.empty() || k.method == "POST" || k.method == "PUT") {
            req += "Content-Type: " + k.content_type + "\r\nContent-Length: " + std::to_string(k.body.size()) + "\r\n";
        }
        auto r = test::http_raw(k.port_kind == 0 ? stack.port() : stack.admin_port(), req + "\r\n" + k.body);
        BOOST_TEST_CONTEXT(k.name << " → " << r.status << " " << r.body.substr(0, 300)) {
            BOOST_TEST(r.status == k.status);
            BOOST_TEST(e2e::is_error_body(r.body));
            if (k.code) BOOST_TEST(e2e::error_member(r.body, "code") == k.code);
            BOOST_TEST(!r.headers["x-request-id"].empty());
            BOOST_TEST(e2e::error_member(r.body, "request_id") == r.headers["x-request-id"]);
            if (k.status == 401) BOOST_TEST(r.headers["www-authenticate"] == "Bearer");
            if (k.status == 429) BOOST_TEST(!r.headers["retry-after"].empty());
            if (k.status == 405) BOOST_TEST(!r.headers["allow"].empty());
            if (k.status == 431) BOOST_TEST(r.headers["connection"] == "close");
            // Internal details never reach the client.
            BOOST_TEST(r.body.find("SQLSTATE") == std::string::npos);
            BOOST_TEST(r.body.find("drover.") == std::string::npos);
            BOOST_TEST(rows() == before);
        }
    }
    // 429 from the key's rate (1 per second): the second request within a second.
    std::this_thread::sleep_for(1100ms);
    auto first = test::http_request_as(tight_key, stack.port(), "GET", "/v1/jobs");
    BOOST_TEST(first.status == 200);
    auto limited = test::http_request_as(tight_key, stack.port(), "GET", "/v1/jobs");
    BOOST_TEST(limited.status == 429);
    BOOST_TEST(e2e::error_member(limited.body, "code") == "rate_limited");
    BOOST_TEST(limited.headers["retry-after"] == "1");
}

BOOST_AUTO_TEST_SUITE_END()
