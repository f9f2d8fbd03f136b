// Apps, API keys and roles over HTTP, end to end: every keyed route against
// every kind of credential (none, malformed, unknown, revoked, operator,
// another app's, each role), the admin listener, revocation seen by a second
// API process, rate and job limits. Each case asserts the status, the JSON
// error body, that no other app's data appears in any body, and what was
// (not) written.
#include <boost/test/unit_test.hpp>

#include <set>
#include <thread>

#include "core/store/app_store.hpp"
#include "core/store/key_store.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/wait.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

// A request with `key` sent in `header` ("" key: no header at all).
test::HttpResponse call(int port, const std::string& method, const std::string& path, const std::string& body,
                        const std::string& key, const std::string& header = "Authorization") {
    std::string extra;
    if (!key.empty()) extra = header + ": " + (header == "Authorization" ? "Bearer " : "") + key + "\r\n";
    std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra;
    if (!body.empty() || method == "POST" || method == "PUT") {
        r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    return test::http_raw(port, r + "\r\n" + body);
}

const std::string mine_secret = "default-app-secret-7f3a";
const std::string other_secret = "other-app-secret-9c1d";
const std::string other_log = "other-app-log-line-5e2b";
// Well-formed, but no such key.
const std::string unknown_key =
    "drv_0123456789abcdef_0000000000000000000000000000000000000000000000000000000000000000";

struct Fixture {
    test::DroverStack stack;
    db::Connection c = stack.database().connect();  // one connection for the checks
    std::map<std::string, std::string> keys;  // credential name → key
    std::string other_job;
    std::string other_key_prefix;

    Fixture() {
        auto conn = stack.database().connect();
        AppStore(conn).create("other");
        KeyStore ks(conn);
        for (auto [name, role] : {std::pair{"read", Role::read}, std::pair{"submit", Role::submit},
                                  std::pair{"admin", Role::admin}}) {
            keys[name] = ks.create("default", role).plaintext;
        }
        auto revoked = ks.create("default", Role::admin);
        ks.revoke(revoked.key.id, std::nullopt);
        keys["revoked"] = revoked.plaintext;
        auto other = ks.create("other", Role::admin);
        keys["other_app"] = other.plaintext;
        other_key_prefix = other.key.prefix;
        keys["operator"] = test::default_operator_key;
        keys["none"] = "";
        keys["unknown"] = unknown_key;
        keys["garbage"] = "hunter2";
        // The other app's job and log line, which no default-app key may see.
        other_job = std::string(conn.exec("SELECT (drover.enqueue('noop', '{\"s\": \"" + other_secret +
                                          "\"}', run_at => now() + interval '1 day', app => 'other')).id")
                                    .text(0, 0));
        conn.exec("INSERT INTO drover.job_logs (job_id, attempt, stream, at, line) VALUES (" + other_job +
                  ", 1, 'stdout', now(), '" + other_log + "')");
        stack.start_api();
    }

    db::Connection db() { return stack.database().connect(); }

    // A pending job of the default app, made in the database.
    std::string fresh_job() {
        return std::string(c.exec("SELECT (drover.enqueue('noop', '{\"s\": \"" + mine_secret +
                                     "\"}', run_at => now() + interval '1 day')).id")
                               .text(0, 0));
    }
    // A cancelled job of the default app (retry and delete take finished jobs).
    std::string fresh_done_job() {
        auto id = fresh_job();
        c.exec("UPDATE drover.jobs SET status = 'cancelled', finished_at = now() WHERE id = " + id);
        return id;
    }
    std::string fresh_key_id() { return std::to_string(KeyStore(c).create("default", Role::read).key.id); }
    std::int64_t count(const std::string& sql) { return e2e::scalar(c, sql); }
};

struct Route {
    std::string method;
    std::string path;  // {job}: a pending job of app default; {done}: a cancelled one; {key}: a key of app default
    std::string body;
    Role least;
    int ok;  // the status when allowed
};

std::vector<Route> public_routes() {
    return {
        {"POST", "/v1/jobs", R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})", Role::submit, 202},
        {"GET", "/v1/jobs/{job}", "", Role::read, 200},
        {"GET", "/v1/jobs/{job}/logs", "", Role::read, 200},
        {"POST", "/v1/jobs/{job}/cancel", "", Role::submit, 200},
        {"GET", "/v1/keys", "", Role::admin, 200},
        {"POST", "/v1/keys", R"({"role": "read", "name": "matrix"})", Role::admin, 201},
        {"POST", "/v1/keys/{key}/revoke", "", Role::admin, 200},
        {"GET", "/v1/jobs", "", Role::read, 200},
        {"GET", "/v1/jobs?status=pending,cancelled&limit=500", "", Role::read, 200},
        {"GET", "/v1/queues", "", Role::read, 200},
        {"GET", "/status", "", Role::read, 200},
        {"POST", "/v1/jobs/batch", R"({"jobs": [{"kind": "noop", "run_at": "2099-01-01T00:00:00Z"}, {"kind": "noop"}]})",
         Role::submit, 202},
        {"POST", "/v1/jobs/{done}/retry", "", Role::submit, 200},
        {"DELETE", "/v1/jobs/{done}", "", Role::admin, 204},
    };
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(auth_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(every_public_route_against_every_credential) {
    const std::set<std::string> unauthorized = {"none", "unknown", "garbage", "revoked"};
    for (const auto& route : public_routes()) {
        for (const auto& [name, key] : keys) {
            auto job = fresh_job();
            auto done = fresh_done_job();
            auto key_id = fresh_key_id();
            auto path = replace_all(replace_all(replace_all(route.path, "{job}", job), "{key}", key_id), "{done}", done);
            auto jobs_before = count("SELECT count(*) FROM drover.jobs");
            auto keys_before = count("SELECT count(*) FROM drover.api_keys");
            auto r = call(stack.port(), route.method, path, route.body, key);
            BOOST_TEST_CONTEXT(route.method << " " << path << " as " << name << " → " << r.status << " " << r.body) {
                int expected = route.ok;
                if (unauthorized.contains(name)) {
                    expected = 401;
                } else if (name == "operator") {
                    expected = 403;
                } else if (name == "other_app") {
                    // Another app's job or key is not found, exactly like an unknown one.
                    if (route.path.find('{') != std::string::npos) expected = 404;
                } else if (parse_role(name).value() < route.least) {
                    expected = 403;
                }
                BOOST_TEST(r.status == expected);
                BOOST_TEST(!r.headers["x-request-id"].empty());
                if (expected >= 400) {
                    BOOST_TEST(e2e::is_error_body(r.body));
                    BOOST_TEST(e2e::error_member(r.body, "request_id") == r.headers["x-request-id"]);
                    // Refused: nothing written, nothing changed.
                    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == jobs_before);
                    BOOST_TEST(count("SELECT count(*) FROM drover.api_keys") == keys_before);
                    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id = " + job + " AND status = 'pending'"
                                     " AND cancel_requested_at IS NULL") == 1);
                    BOOST_TEST(count("SELECT count(*) FROM drover.api_keys WHERE id = " + key_id +
                                     " AND revoked_at IS NULL") == 1);
                    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id = " + done +
                                     " AND status = 'cancelled'") == 1);
                }
                if (expected == 401) {
                    BOOST_TEST(r.headers["www-authenticate"] == "Bearer");
                    BOOST_TEST(e2e::error_member(r.body, "code") == "unauthorized");
                }
                if (expected == 403) BOOST_TEST(e2e::error_member(r.body, "code") == "forbidden");
                if (expected == 404) {
                    // The same answer as for an id that exists nowhere.
                    auto unknown = call(stack.port(), route.method,
                                        replace_all(replace_all(replace_all(route.path, "{job}", "987654321"), "{key}",
                                                                "987654321"),
                                                    "{done}", "987654321"),
                                        route.body, key);
                    BOOST_TEST(unknown.status == 404);
                    BOOST_TEST(e2e::error_member(r.body, "code") == e2e::error_member(unknown.body, "code"));
                    BOOST_TEST(e2e::error_member(r.body, "message") == e2e::error_member(unknown.body, "message"));
                }
                // No body ever shows another app's data.
                if (name == "other_app") {
                    BOOST_TEST(r.body.find(mine_secret) == std::string::npos);
                    BOOST_TEST(r.body.find("\"app\":\"default\"") == std::string::npos);
                } else {
                    BOOST_TEST(r.body.find(other_secret) == std::string::npos);
                    BOOST_TEST(r.body.find(other_log) == std::string::npos);
                    BOOST_TEST(r.body.find(other_key_prefix) == std::string::npos);
                }
                if (expected == 202 && route.path == "/v1/jobs") {
                    auto app = name == "other_app" ? "other" : "default";
                    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id = " + test::json_field(r.body, "id") +
                                     " AND app = '" + app + "'") == 1);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(an_app_reads_its_own_job_and_log_and_lists_only_its_own_keys) {
    auto r = call(stack.port(), "GET", "/v1/jobs/" + other_job + "/logs", "", keys["other_app"]);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body.find(other_log) != std::string::npos, r.body);
    auto listed = call(stack.port(), "GET", "/v1/keys", "", keys["other_app"]);
    BOOST_REQUIRE_EQUAL(listed.status, 200);
    auto doc = e2e::parse_json(listed.body);
    BOOST_REQUIRE(doc.IsObject());
    BOOST_TEST(doc["keys"].Size() == 1u);
    BOOST_TEST(std::string(doc["keys"][0]["app"].GetString()) == "other");
    BOOST_TEST(!doc["keys"][0].HasMember("hash"));
    BOOST_TEST(!doc["keys"][0].HasMember("key"));
}

BOOST_AUTO_TEST_CASE(x_api_key_works_and_other_schemes_do_not) {
    auto job = fresh_job();
    BOOST_TEST(call(stack.port(), "GET", "/v1/jobs/" + job, "", keys["read"], "X-API-Key").status == 200);
    auto basic = call(stack.port(), "GET", "/v1/jobs/" + job, "", "", "Authorization");
    BOOST_TEST(basic.status == 401);
    auto r = test::http_raw(stack.port(), "GET /v1/jobs/" + job +
                                              " HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n");
    BOOST_TEST(r.status == 401);
    BOOST_TEST(r.headers["www-authenticate"] == "Bearer");
    // Health needs no key.
    BOOST_TEST(call(stack.port(), "GET", "/healthz", "", "").status == 200);
    BOOST_TEST(call(stack.port(), "GET", "/readyz", "", "").status == 200);
}

BOOST_AUTO_TEST_CASE(the_admin_listener_needs_an_operator_key_and_is_not_on_the_public_one) {
    for (const auto& [name, key] : keys) {
        auto r = call(stack.admin_port(), "GET", "/maintenance/apps", "", key);
        BOOST_TEST_CONTEXT(name << " → " << r.status << " " << r.body) {
            int expected = name == "operator" ? 200 : (name == "none" || name == "unknown" || name == "garbage" ||
                                                       name == "revoked")
                                                          ? 401
                                                          : 403;
            BOOST_TEST(r.status == expected);
            if (expected != 200) BOOST_TEST(e2e::is_error_body(r.body));
            // /maintenance is never on the public listener, whatever the key.
            auto pub = call(stack.port(), "GET", "/maintenance/apps", "", key);
            BOOST_TEST(pub.status == 404);
            BOOST_TEST(e2e::error_member(pub.body, "code") == "no_route");
            BOOST_TEST(call(stack.admin_port(), "GET", "/v1/jobs/" + other_job, "", key).status == 404);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_operator_makes_an_app_and_a_key_sets_limits_and_revokes) {
    const auto op = std::string(test::default_operator_key);
    int admin = stack.admin_port();
    auto bad = call(admin, "POST", "/maintenance/apps", R"({"name": "no spaces"})", op);
    BOOST_TEST(bad.status == 422);
    BOOST_TEST(e2e::error_member(bad.body, "field") == "name");
    BOOST_TEST(call(admin, "POST", "/maintenance/apps", R"({"name": "shop", "colour": 1})", op).status == 422);
    BOOST_TEST(call(admin, "POST", "/maintenance/apps", R"({"name": )", op).status == 400);
    BOOST_TEST(count("SELECT count(*) FROM drover.apps WHERE name NOT IN ('default', 'other')") == 0);

    auto created = call(admin, "POST", "/maintenance/apps", R"({"name": "shop", "max_unfinished_jobs": 2})", op);
    BOOST_REQUIRE_EQUAL(created.status, 201);
    BOOST_TEST(call(admin, "POST", "/maintenance/apps", R"({"name": "shop"})", op).status == 409);

    auto bad_role = call(admin, "POST", "/maintenance/apps/shop/keys", R"({"role": "operator"})", op);
    BOOST_TEST(bad_role.status == 422);
    BOOST_TEST(call(admin, "POST", "/maintenance/apps/nope/keys", R"({"role": "submit"})", op).status == 404);
    auto key_answer = call(admin, "POST", "/maintenance/apps/shop/keys", R"({"role": "submit", "name": "web"})", op);
    BOOST_REQUIRE_EQUAL(key_answer.status, 201);
    auto key = test::json_field(key_answer.body, "key");
    auto key_id = test::json_field(key_answer.body, "id");
    BOOST_TEST(key.starts_with("drv_"));
    // Shown once: the list has no key and no hash; the database has no key.
    auto listed = call(admin, "GET", "/maintenance/apps/shop/keys", "", op);
    BOOST_TEST(listed.status == 200);
    BOOST_TEST(listed.body.find(key.substr(key.rfind('_') + 1)) == std::string::npos);
    BOOST_TEST(listed.body.find("\"hash\"") == std::string::npos);
    BOOST_TEST(count("SELECT count(*) FROM drover.api_keys AS k WHERE position('" + key.substr(key.rfind('_') + 1) +
                     "' IN k::text) > 0") == 0);

    // The key acts for its app, up to its job limit: then 429 and nothing written.
    const std::string job = R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})";
    auto first = call(stack.port(), "POST", "/v1/jobs", job, key);
    BOOST_REQUIRE_EQUAL(first.status, 202);
    BOOST_TEST(call(stack.port(), "POST", "/v1/jobs", job, key).status == 202);
    auto over = call(stack.port(), "POST", "/v1/jobs", job, key);
    BOOST_TEST(over.status == 429);
    BOOST_TEST(e2e::is_error_body(over.body));
    BOOST_TEST(e2e::error_member(over.body, "code") == "app_limit_reached");
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE app = 'shop'") == 2);
    // Raised: room again.
    auto limits = call(admin, "PUT", "/maintenance/apps/shop/limits", R"({"max_unfinished_jobs": 3})", op);
    BOOST_TEST(limits.status == 200, limits.body);
    BOOST_TEST(call(admin, "PUT", "/maintenance/apps/shop/limits", R"({"max_unfinished_jobs": -1})", op).status ==
               422);
    BOOST_TEST(call(admin, "PUT", "/maintenance/apps/nope/limits", R"({})", op).status == 404);
    BOOST_TEST(call(stack.port(), "POST", "/v1/jobs", job, key).status == 202);

    // The full record of any app's job, for operators.
    auto full = call(admin, "GET", "/maintenance/jobs/" + test::json_field(first.body, "id"), "", op);
    BOOST_TEST(full.status == 200);
    auto doc = e2e::parse_json(full.body);
    BOOST_REQUIRE(doc.IsObject());
    BOOST_TEST(std::string(doc["app"].GetString()) == "shop");
    BOOST_TEST(doc.HasMember("lease_owner"));
    BOOST_TEST(call(admin, "GET", "/maintenance/jobs/987654321", "", op).status == 404);

    auto revoked = call(admin, "POST", "/maintenance/keys/" + key_id + "/revoke", "", op);
    BOOST_TEST(revoked.status == 200);
    BOOST_TEST(test::json_field(revoked.body, "revoked_at") != "");
    BOOST_TEST(e2e::poll_until([&] { return call(stack.port(), "GET", "/v1/keys", "", key).status == 401; }, 1500ms,
                               50ms));
}

BOOST_AUTO_TEST_CASE(a_revoked_key_is_refused_by_a_second_api_process_within_a_second) {
    int second_port = test::free_port();
    test::Process second(test::binary_path("drover-api"), {},
                         {{"DROVER_DATABASE_URL", stack.database().url()},
                          {"DROVER_PORT", std::to_string(second_port)},
                          {"DROVER_ADMIN_PORT", std::to_string(test::free_port())}});
    BOOST_REQUIRE(test::wait_until([&] { return call(second_port, "GET", "/readyz", "", "").status == 200; }));
    auto job = fresh_job();
    const auto& key = keys["admin"];
    // Both processes have the key cached.
    BOOST_REQUIRE_EQUAL(call(stack.port(), "GET", "/v1/jobs/" + job, "", key).status, 200);
    BOOST_REQUIRE_EQUAL(call(second_port, "GET", "/v1/jobs/" + job, "", key).status, 200);
    auto id = count("SELECT id FROM drover.api_keys WHERE prefix = '" + key.substr(0, key.rfind('_')) + "'");
    auto revoked = call(stack.admin_port(), "POST", "/maintenance/keys/" + std::to_string(id) + "/revoke", "",
                        test::default_operator_key);
    BOOST_REQUIRE_EQUAL(revoked.status, 200);
    auto at = std::chrono::steady_clock::now();
    bool refused = e2e::poll_until([&] { return call(second_port, "GET", "/v1/jobs/" + job, "", key).status == 401; },
                                   2s, 20ms);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - at);
    BOOST_TEST(refused);
    BOOST_TEST(took.count() < 1000, "refused after " << took.count() << " ms");
    BOOST_TEST(call(stack.port(), "GET", "/v1/jobs/" + job, "", key).status == 401);
}

BOOST_AUTO_TEST_CASE(a_key_over_its_apps_rate_gets_429_with_retry_after) {
    auto conn = db();
    AppStore(conn).set_limits("other", AppLimits{std::nullopt, 3});
    auto key = KeyStore(conn).create("other", Role::read).plaintext;
    std::vector<int> statuses;
    test::HttpResponse limited;
    for (int i = 0; i < 8; ++i) {
        auto r = call(stack.port(), "GET", "/v1/jobs/" + other_job, "", key);
        statuses.push_back(r.status);
        if (r.status == 429) limited = r;
    }
    BOOST_TEST(statuses[0] == 200);
    BOOST_TEST(std::count(statuses.begin(), statuses.end(), 429) >= 1);
    BOOST_TEST(std::count(statuses.begin(), statuses.end(), 200) <= 4);
    BOOST_TEST(limited.headers["retry-after"] == "1");
    BOOST_TEST(e2e::error_member(limited.body, "code") == "rate_limited");
    // Another key of the same app has its own bucket.
    BOOST_TEST(call(stack.port(), "GET", "/v1/jobs/" + other_job, "", keys["other_app"]).status == 200);
    std::this_thread::sleep_for(1100ms);
    BOOST_TEST(call(stack.port(), "GET", "/v1/jobs/" + other_job, "", key).status == 200);
}

BOOST_AUTO_TEST_CASE(auth_off_acts_for_the_default_app_but_the_admin_listener_still_needs_a_key) {
    test::DroverStack open_stack;
    open_stack.start_api({{"DROVER_AUTH", "off"}});
    auto r = call(open_stack.port(), "POST", "/v1/jobs", R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})", "");
    BOOST_TEST(r.status == 202, r.body);
    BOOST_TEST(call(open_stack.admin_port(), "GET", "/maintenance/apps", "", "").status == 401);
    BOOST_TEST(open_stack.api().output().find("DROVER_AUTH=off") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(metrics_are_on_the_admin_listener_for_operators) {
    auto job = fresh_job();
    for (int i = 0; i < 3; ++i) BOOST_TEST(call(stack.port(), "GET", "/v1/jobs/" + job, "", keys["read"]).status == 200);
    BOOST_TEST(call(stack.port(), "GET", "/v1/jobs/" + job, "", "").status == 401);
    auto r = call(stack.admin_port(), "GET", "/metrics", "", test::default_operator_key);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.headers["content-type"].starts_with("text/plain"), r.headers["content-type"]);
    BOOST_TEST(r.body.find("drover_http_requests_total{route=\"GET /v1/jobs/:id\",status=\"200\"} 3\n") !=
                   std::string::npos,
               r.body);
    BOOST_TEST(r.body.find("drover_http_requests_total{route=\"GET /v1/jobs/:id\",status=\"401\"} 1\n") !=
               std::string::npos);
    BOOST_TEST(r.body.find("drover_http_request_duration_seconds_count{route=\"GET /v1/jobs/:id\"} 4\n") !=
               std::string::npos);
    BOOST_TEST(r.body.find("drover_api_db_connections 4\n") != std::string::npos);
    BOOST_TEST(r.body.find("drover_auth_lookups_total ") != std::string::npos);
    BOOST_TEST(r.body.find("drover_auth_cache_hits_total ") != std::string::npos);
    BOOST_TEST(call(stack.admin_port(), "GET", "/metrics", "", "").status == 401);
    BOOST_TEST(call(stack.admin_port(), "GET", "/metrics", "", keys["admin"]).status == 403);
    BOOST_TEST(call(stack.port(), "GET", "/metrics", "", keys["admin"]).status == 404);
}

BOOST_AUTO_TEST_CASE(the_first_operator_key_comes_from_the_command_line) {
    auto run = [&](std::vector<std::string> args) {
        test::Process cli(test::binary_path("drover"), args, {{"DROVER_DATABASE_URL", stack.database().url()},
                                                              {"DROVER_LOG_LEVEL", "warn"}});
        auto status = cli.wait_exit(10s);
        BOOST_REQUIRE_MESSAGE(status && *status == 0, "drover exited " << status.value_or(-1) << ": " << cli.output());
        auto out = cli.output();
        while (!out.empty() && out.back() == '\n') out.pop_back();
        return out;
    };
    auto op = run({"keys", "create-operator", "first"});
    BOOST_TEST(op.starts_with("drvop_"));
    BOOST_TEST(op.find('\n') == std::string::npos);
    BOOST_TEST(call(stack.admin_port(), "GET", "/maintenance/apps", "", op).status == 200);
    // An app and a key of it, from the command line too.
    BOOST_TEST(run({"apps", "create", "cli-app", "5"}).find("\"max_unfinished_jobs\":5") != std::string::npos);
    auto key = run({"keys", "create", "cli-app", "submit"});
    auto r = call(stack.port(), "POST", "/v1/jobs", R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})", key);
    BOOST_TEST(r.status == 202);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE app = 'cli-app'") == 1);
    auto listed = run({"keys", "list", "cli-app"});
    BOOST_TEST(listed.find(key.substr(0, key.rfind('_'))) != std::string::npos);
    BOOST_TEST(listed.find(key.substr(key.rfind('_') + 1)) == std::string::npos);
    auto id = count("SELECT id FROM drover.api_keys WHERE app = 'cli-app'");
    BOOST_TEST(run({"keys", "revoke", std::to_string(id)}).find("\"revoked_at\":\"") != std::string::npos);
    BOOST_TEST(e2e::poll_until([&] { return call(stack.port(), "GET", "/v1/keys", "", key).status == 401; }, 1500ms,
                               50ms));
}

BOOST_AUTO_TEST_SUITE_END()
