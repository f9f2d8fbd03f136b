// Bad input over HTTP, end to end: every refused request gets the right
// status and a JSON error naming the problem, nothing reaches drover.jobs,
// and the API keeps serving (no crash, no hang, slow clients cannot block it).
//
// Test cases named known_bug_* reproduce product bugs found while writing
// this suite; each asserts the behaviour the product promises. They are
// skipped unless DROVER_E2E_KNOWN_BUGS=1 is set (so the suite stays green
// meanwhile); drop the precondition once the bug is fixed.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <optional>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/zip_builder.hpp"

using namespace drover;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

struct Fixture {
    // One command kind, so that args of any shape are acceptable to the kind itself.
    test::DroverStack stack{e2e::kinds_file({e2e::CommandKind("echo_args", "cat > /dev/null")})};

    std::int64_t rows() {
        auto conn = stack.database().connect();
        return e2e::job_count(conn);
    }

    bool healthy() { return test::http_request(stack.port(), "GET", "/healthz").status == 200; }

    void check_still_serving() {
        BOOST_TEST(stack.api().running());
        BOOST_TEST_REQUIRE(healthy(), "drover-api stopped answering:\n" << stack.output());
    }
};

struct BadRequest {
    const char* name;
    std::string method;
    std::string path;
    std::string body;
    int status;
    const char* code;
    // The field the error must name; "" = the error must name none; nullptr = not checked.
    const char* field;
};

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

std::vector<BadRequest> bad_requests() {
    const std::string post = "POST";
    const std::string get = "GET";
    const std::string jobs = "/v1/jobs";
    return {
        // Not JSON at all: 400.
        {"malformed JSON", post, jobs, R"({"kind": "noop",)", 400, "malformed_json", ""},
        {"empty body", post, jobs, "", 400, "malformed_json", ""},
        {"trailing garbage", post, jobs, R"({"kind": "noop"} x)", 400, "malformed_json", ""},
        {"invalid UTF-8", post, jobs, "{\"kind\": \"no\xff\xfeop\"}", 400, "malformed_json", ""},
        {"single quotes", post, jobs, "{'kind': 'noop'}", 400, "malformed_json", ""},
        // JSON, but not an object: 422.
        {"JSON array", post, jobs, R"([{"kind": "noop"}])", 422, "wrong_type", ""},
        {"JSON string", post, jobs, R"("noop")", 422, "wrong_type", ""},
        {"JSON null", post, jobs, "null", 422, "wrong_type", ""},
        // Wrong types.
        {"kind is a number", post, jobs, R"({"kind": 5})", 422, "wrong_type", "kind"},
        {"kind is null", post, jobs, R"({"kind": null})", 422, "wrong_type", "kind"},
        {"args is a string", post, jobs, R"({"kind": "echo_args", "args": "x=1"})", 422, "wrong_type", "args"},
        {"args is an array", post, jobs, R"({"kind": "echo_args", "args": [1]})", 422, "wrong_type", "args"},
        {"args is null", post, jobs, R"({"kind": "noop", "args": null})", 422, "wrong_type", "args"},
        {"priority is a string", post, jobs, R"({"kind": "noop", "priority": "high"})", 422, "wrong_type", "priority"},
        {"priority is a fraction", post, jobs, R"({"kind": "noop", "priority": 1.5})", 422, "wrong_type", "priority"},
        {"max_attempts is a string", post, jobs, R"({"kind": "noop", "max_attempts": "3"})", 422, "wrong_type",
         "max_attempts"},
        {"max_attempts beyond int", post, jobs, R"({"kind": "noop", "max_attempts": 4294967296})", 422, "wrong_type",
         "max_attempts"},
        {"timeout_s is a bool", post, jobs, R"({"kind": "noop", "timeout_s": true})", 422, "wrong_type", "timeout_s"},
        {"run_at is a number", post, jobs, R"({"kind": "noop", "run_at": 1767225600})", 422, "wrong_type", "run_at"},
        {"queue is a number", post, jobs, R"({"kind": "noop", "queue": 7})", 422, "wrong_type", "queue"},
        {"unique_key is an object", post, jobs, R"({"kind": "noop", "unique_key": {}})", 422, "wrong_type",
         "unique_key"},
        // Unknown or missing things.
        {"unknown field", post, jobs, R"({"kind": "noop", "colour": "red"})", 422, "unknown_field", "colour"},
        {"unknown kind", post, jobs, R"({"kind": "launch_rockets"})", 422, "unknown_kind", "kind"},
        {"empty kind", post, jobs, R"({"kind": ""})", 422, "unknown_kind", "kind"},
        {"missing kind", post, jobs, R"({"args": {}})", 422, "missing_field", "kind"},
        {"empty object", post, jobs, "{}", 422, "missing_field", "kind"},
        // Values out of range.
        {"priority too high", post, jobs, R"({"kind": "noop", "priority": 1001})", 422, "out_of_range", "priority"},
        {"priority too low", post, jobs, R"({"kind": "noop", "priority": -1001})", 422, "out_of_range", "priority"},
        {"max_attempts 0", post, jobs, R"({"kind": "noop", "max_attempts": 0})", 422, "out_of_range", "max_attempts"},
        {"max_attempts 1001", post, jobs, R"({"kind": "noop", "max_attempts": 1001})", 422, "out_of_range",
         "max_attempts"},
        {"timeout_s 0", post, jobs, R"({"kind": "noop", "timeout_s": 0})", 422, "out_of_range", "timeout_s"},
        {"timeout_s negative", post, jobs, R"({"kind": "noop", "timeout_s": -5})", 422, "out_of_range", "timeout_s"},
        {"timeout_s over a week", post, jobs, R"({"kind": "noop", "timeout_s": 604801})", 422, "out_of_range",
         "timeout_s"},
        // Bad values.
        {"run_at in words", post, jobs, R"({"kind": "noop", "run_at": "tomorrow"})", 422, "invalid_value", "run_at"},
        {"run_at without time", post, jobs, R"({"kind": "noop", "run_at": "2026-01-31"})", 422, "invalid_value",
         "run_at"},
        {"run_at without zone", post, jobs, R"({"kind": "noop", "run_at": "2026-01-31T12:00:00"})", 422,
         "invalid_value", "run_at"},
        // Passes the format check, refused by the database (see known_bug_impossible_run_at_names_no_field).
        {"run_at on 30 February", post, jobs, R"({"kind": "noop", "run_at": "2026-02-30T00:00:00Z"})", 422,
         "invalid_value", nullptr},
        {"queue with a space", post, jobs, R"({"kind": "noop", "queue": "bad queue"})", 422, "invalid_value", "queue"},
        {"queue with a slash", post, jobs, R"({"kind": "noop", "queue": "../etc"})", 422, "invalid_value", "queue"},
        {"empty queue", post, jobs, R"({"kind": "noop", "queue": ""})", 422, "invalid_value", "queue"},
        {"queue of 65 characters", post, jobs, R"({"kind": "noop", "queue": ")" + repeat('q', 65) + "\"}", 422,
         "invalid_value", "queue"},
        {"empty unique_key", post, jobs, R"({"kind": "noop", "unique_key": ""})", 422, "invalid_value", "unique_key"},
        {"unique_key of 257 characters", post, jobs, R"({"kind": "noop", "unique_key": ")" + repeat('k', 257) + "\"}",
         422, "invalid_value", "unique_key"},
        // Arguments the built-in kinds refuse.
        {"sleep without ms", post, jobs, R"({"kind": "sleep"})", 422, "invalid_args", "args.ms"},
        {"sleep with empty args", post, jobs, R"({"kind": "sleep", "args": {}})", 422, "invalid_args", "args.ms"},
        {"sleep with ms as a string", post, jobs, R"({"kind": "sleep", "args": {"ms": "100"}})", 422, "invalid_args",
         "args.ms"},
        {"sleep with negative ms", post, jobs, R"({"kind": "sleep", "args": {"ms": -1}})", 422, "invalid_args",
         "args.ms"},
        {"sleep longer than a day", post, jobs, R"({"kind": "sleep", "args": {"ms": 86400001}})", 422, "invalid_args",
         "args.ms"},
        {"sleep with an extra arg", post, jobs, R"({"kind": "sleep", "args": {"ms": 1, "loud": true}})", 422,
         "invalid_args", "args.loud"},
        {"noop with an arg", post, jobs, R"({"kind": "noop", "args": {"x": 1}})", 422, "invalid_args", "args.x"},
        {"fail with permanent as a string", post, jobs, R"({"kind": "fail", "args": {"permanent": "yes"}})", 422,
         "invalid_args", "args.permanent"},
        {"fail with a numeric message", post, jobs, R"({"kind": "fail", "args": {"message": 5}})", 422,
         "invalid_args", "args.message"},
        // jsonb cannot hold U+0000: the database refuses it, the API says so.
        {"args holding U+0000", post, jobs, R"({"kind": "echo_args", "args": {"s": "a\u0000b"}})", 422,
         "invalid_value", nullptr},
        // Unknown ids and routes.
        {"unknown job id", get, "/v1/jobs/999999", "", 404, "not_found", ""},
        {"non-numeric job id", get, "/v1/jobs/abc", "", 404, "not_found", ""},
        {"job id 0", get, "/v1/jobs/0", "", 404, "not_found", ""},
        {"negative job id", get, "/v1/jobs/-1", "", 404, "not_found", ""},
        {"fractional job id", get, "/v1/jobs/1.5", "", 404, "not_found", ""},
        {"job id beyond bigint", get, "/v1/jobs/99999999999999999999", "", 404, "not_found", ""},
        {"SQL in the job id", get, "/v1/jobs/1%20OR%201=1", "", 404, "not_found", ""},
        {"unknown route", get, "/v1/nothing/here", "", 404, "no_route", ""},
        {"unknown route, POST", post, "/v2/jobs", R"({"kind": "noop"})", 404, "no_route", ""},
    };
}

// Sends a request whose Content-Length claims `length` bytes; waits at most `wait`.
test::HttpResponse post_with_content_length(int port, const std::string& length, const std::string& body,
                                            int wait_ms) {
    return test::http_raw(port,
                          "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + length + "\r\n\r\n" + body,
                          wait_ms);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(bad_input_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(each_bad_request_gets_its_status_and_json_error_and_stores_nothing) {
    stack.start_api();
    // One real job first, so that a GET of the wrong id has something to miss.
    auto real = stack.post_job(R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})");
    BOOST_REQUIRE_EQUAL(real.status, 202);
    BOOST_REQUIRE_EQUAL(rows(), 1);

    for (const auto& c : bad_requests()) {
        BOOST_TEST_CONTEXT("case '" << c.name << "': " << c.method << " " << c.path << " " << c.body.substr(0, 80)) {
            auto r = test::http_request(stack.port(), c.method, c.path, c.body);
            BOOST_TEST(r.status == c.status, "body: " << r.body);
            BOOST_TEST(r.headers["content-type"].find("application/json") != std::string::npos);
            BOOST_TEST(e2e::is_error_body(r.body), "body: " << r.body);
            BOOST_TEST(e2e::error_member(r.body, "code") == c.code);
            if (c.field) BOOST_TEST(e2e::error_member(r.body, "field") == c.field);
            BOOST_TEST(!e2e::error_member(r.body, "message").empty());
            BOOST_TEST(e2e::error_member(r.body, "request_id") == r.headers["x-request-id"]);
            BOOST_TEST(rows() == 1);
        }
    }
    check_still_serving();
    // The one good job is untouched.
    auto conn = stack.database().connect();
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE status = 'pending' AND kind = 'noop'") == 1);
}

// The routes issue 8 added (batch, listing, retry, delete, queues, keys,
// uploads, the admin listener's apps, keys, jobs, uploads and sweeps), fed
// bad input: each case gets its status and a JSON error, and nothing is
// written: every table the API writes is fingerprinted before and after
// (api_keys without last_used_at, which a request may touch), and no file
// appears under the stack's folder (storage, temp files).
BOOST_AUTO_TEST_CASE(the_new_routes_refuse_bad_input_and_write_nothing) {
    stack.start_api();
    auto conn = stack.database().connect();
    const std::string key = test::default_api_key, op = test::default_operator_key;
    auto pending = std::string(conn.exec("SELECT (drover.enqueue('noop', run_at => '2099-01-01')).id").text(0, 0));
    auto done = std::string(conn.exec("SELECT (drover.enqueue('noop')).id").text(0, 0));
    conn.exec("UPDATE drover.jobs SET status = 'succeeded', finished_at = now() WHERE id = " + done);
    auto session = test::http_request(stack.port(), "POST", "/v1/uploads/sessions", "");
    BOOST_REQUIRE_EQUAL(session.status, 201);
    const std::string sid = test::json_field(session.body, "id");

    auto fingerprint = [&] {
        std::string sql = "SELECT md5(concat_ws('|'";
        for (const char* table : {"jobs", "apps", "uploads", "upload_sessions", "upload_parts", "blobs",
                                  "idempotency_keys", "job_logs", "storage_deletions", "queue_limits"}) {
            sql += std::string(", (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM drover.") + table + " t)";
        }
        sql += ", (SELECT string_agg(concat_ws(':', id, app, role, name, revoked_at), ',' ORDER BY id)"
               " FROM drover.api_keys)))";
        return std::string(conn.exec(sql).text(0, 0));
    };
    auto files = [&] {
        std::size_t n = 0;
        for (const auto& e : std::filesystem::recursive_directory_iterator(stack.dir())) n += e.is_regular_file();
        return n;
    };
    std::string big_batch = R"({"jobs": [)";
    for (int i = 0; i < 10001; ++i) big_batch += std::string(i ? "," : "") + R"({"kind": "noop"})";
    big_batch += "]}";
    const std::string escaping_zip = test::ZipBuilder().file("../escape.txt", "x").bytes();

    struct Case {
        const char* name;
        int port_kind;  // 0 public, 1 admin
        std::string method, path, body;
        int status;
        const char* code;   // nullptr: not checked
        const char* field;  // nullptr: not checked
        std::string content_type = "application/json";
    };
    const std::vector<Case> cases = {
        // POST /v1/jobs/batch
        {"batch: malformed", 0, "POST", "/v1/jobs/batch", R"({"jobs": [{"kind": "noop"})", 400, "malformed_json", ""},
        {"batch: no jobs member", 0, "POST", "/v1/jobs/batch", "{}", 422, "missing_field", "jobs"},
        {"batch: jobs not an array", 0, "POST", "/v1/jobs/batch", R"({"jobs": {"kind": "noop"}})", 422, "wrong_type", "jobs"},
        {"batch: empty", 0, "POST", "/v1/jobs/batch", R"({"jobs": []})", 422, "out_of_range", "jobs"},
        {"batch: 10,001 jobs", 0, "POST", "/v1/jobs/batch", big_batch, 422, "out_of_range", "jobs"},
        {"batch: unknown top-level field", 0, "POST", "/v1/jobs/batch", R"({"jobs": [{"kind": "noop"}], "x": 1})", 422,
         "unknown_field", nullptr},
        {"batch: bad kind in the middle", 0, "POST", "/v1/jobs/batch",
         R"({"jobs": [{"kind": "noop"}, {"kind": "nope"}, {"kind": "noop"}]})", 422, "unknown_kind", "jobs[1].kind"},
        {"batch: bad args in the middle", 0, "POST", "/v1/jobs/batch",
         R"({"jobs": [{"kind": "noop"}, {"kind": "noop"}, {"kind": "sleep", "args": {"ms": "x"}}]})", 422,
         "invalid_args", "jobs[2].args.ms"},
        {"batch: an item not an object", 0, "POST", "/v1/jobs/batch", R"({"jobs": [{"kind": "noop"}, 5]})", 422,
         "wrong_type", nullptr},
        {"batch: an unknown upload_id in the middle", 0, "POST", "/v1/jobs/batch",
         R"({"jobs": [{"kind": "noop"}, {"kind": "noop", "upload_id": "999999"}]})", 422, "unknown_upload",
         "jobs[1].upload_id"},
        {"batch: a unique_key twice", 0, "POST", "/v1/jobs/batch",
         R"({"jobs": [{"kind": "noop", "unique_key": "u"}, {"kind": "noop", "unique_key": "u"}]})", 409,
         "unique_key_taken", nullptr},
        {"batch: impossible run_at", 0, "POST", "/v1/jobs/batch",
         R"({"jobs": [{"kind": "noop"}, {"kind": "noop", "run_at": "2026-02-30T00:00:00Z"}]})", 422, nullptr, nullptr},
        // GET /v1/jobs filters and cursor
        {"list: unknown status", 0, "GET", "/v1/jobs?status=done", "", 422, "invalid_value", "status"},
        {"list: limit 0", 0, "GET", "/v1/jobs?limit=0", "", 422, nullptr, "limit"},
        {"list: limit in words", 0, "GET", "/v1/jobs?limit=ten", "", 422, nullptr, "limit"},
        {"list: limit 100000", 0, "GET", "/v1/jobs?limit=100000", "", 422, nullptr, "limit"},
        {"list: cursor garbage", 0, "GET", "/v1/jobs?cursor=%%%garbage", "", 422, nullptr, "cursor"},
        {"list: cursor of another shape", 0, "GET", "/v1/jobs?cursor=eyJ4IjoxfQ", "", 422, nullptr, "cursor"},
        {"list: created_after in words", 0, "GET", "/v1/jobs?created_after=yesterday", "", 422, nullptr,
         "created_after"},
        {"list: unknown parameter", 0, "GET", "/v1/jobs?colour=red", "", 422, "unknown_field", "colour"},
        // retry, delete, queues
        {"retry: id in words", 0, "POST", "/v1/jobs/abc/retry", "", 404, "not_found", nullptr},
        {"retry: unknown id", 0, "POST", "/v1/jobs/999999/retry", "", 404, "not_found", nullptr},
        {"retry: a pending job", 0, "POST", "/v1/jobs/" + pending + "/retry", "", 409, "not_retryable", nullptr},
        {"retry: a succeeded job", 0, "POST", "/v1/jobs/" + done + "/retry", "", 409, "not_retryable", nullptr},
        {"delete: a pending job", 0, "DELETE", "/v1/jobs/" + pending, "", 409, nullptr, nullptr},
        {"delete: unknown id", 0, "DELETE", "/v1/jobs/999999", "", 404, "not_found", nullptr},
        {"delete: id beyond bigint", 0, "DELETE", "/v1/jobs/99999999999999999999", "", 404, "not_found", nullptr},
        {"queues: wrong method", 0, "POST", "/v1/queues", "{}", 405, nullptr, nullptr},
        // keys of the app
        {"keys: operator role", 0, "POST", "/v1/keys", R"({"role": "operator"})", 422, "invalid_value", nullptr},
        {"keys: role a number", 0, "POST", "/v1/keys", R"({"role": 5})", 422, nullptr, "role"},
        {"keys: unknown field", 0, "POST", "/v1/keys", R"({"role": "read", "app": "other"})", 422, "unknown_field",
         nullptr},
        {"keys: name of 201 characters", 0, "POST", "/v1/keys", R"({"role": "read", "name": ")" + repeat('n', 201) + "\"}",
         422, nullptr, nullptr},
        {"keys: revoke unknown", 0, "POST", "/v1/keys/999999/revoke", "", 404, "not_found", nullptr},
        {"keys: revoke id in words", 0, "POST", "/v1/keys/abc/revoke", "", 404, "not_found", nullptr},
        // uploads
        {"uploads: empty body", 0, "POST", "/v1/uploads", "", 422, "not_a_zip", nullptr, "application/zip"},
        {"uploads: not a zip", 0, "POST", "/v1/uploads", "hello, not a zip", 422, "not_a_zip", nullptr,
         "application/zip"},
        {"uploads: an entry escaping its folder", 0, "POST", "/v1/uploads", escaping_zip, 422, nullptr, nullptr,
         "application/zip"},
        {"uploads: unknown upload", 0, "GET", "/v1/uploads/999999", "", 404, "not_found", nullptr},
        {"uploads: part of an unknown session", 0, "PUT", "/v1/uploads/sessions/999999/parts/1", "abc", 404,
         "not_found", nullptr, "application/octet-stream"},
        {"uploads: part 0", 0, "PUT", "/v1/uploads/sessions/" + sid + "/parts/0", "abc", 404, "not_found", nullptr,
         "application/octet-stream"},
        {"uploads: complete with no parts", 0, "POST", "/v1/uploads/sessions/" + sid + "/complete", "", 422, nullptr,
         nullptr},
        {"uploads: complete with a bad sha256", 0, "POST", "/v1/uploads/sessions/" + sid + "/complete",
         R"({"sha256": "abc"})", 422, nullptr, "sha256"},
        {"uploads: complete an unknown session", 0, "POST", "/v1/uploads/sessions/999999/complete", "", 404,
         "not_found", nullptr},
        // the admin listener
        {"admin: app without a name", 1, "POST", "/maintenance/apps", "{}", 422, "missing_field", "name"},
        {"admin: app name with a space", 1, "POST", "/maintenance/apps", R"({"name": "a b"})", 422, nullptr, "name"},
        {"admin: app with a negative limit", 1, "POST", "/maintenance/apps",
         R"({"name": "neg", "max_unfinished_jobs": -1})", 422, nullptr, "max_unfinished_jobs"},
        {"admin: app malformed", 1, "POST", "/maintenance/apps", R"({"name": )", 400, "malformed_json", nullptr},
        {"admin: limits of an unknown app", 1, "PUT", "/maintenance/apps/nope/limits", R"({"max_unfinished_jobs": 5})",
         404, "not_found", nullptr},
        {"admin: limits in words", 1, "PUT", "/maintenance/apps/default/limits", R"({"max_unfinished_jobs": "x"})",
         422, nullptr, "max_unfinished_jobs"},
        {"admin: rate limit 0", 1, "PUT", "/maintenance/apps/default/limits", R"({"rate_limit_per_s": 0})", 422,
         nullptr, "rate_limit_per_s"},
        {"admin: key for an unknown app", 1, "POST", "/maintenance/apps/nope/keys", R"({"role": "read"})", 404,
         "not_found", nullptr},
        {"admin: key of an unknown role", 1, "POST", "/maintenance/apps/default/keys", R"({"role": "god"})", 422,
         "invalid_value", nullptr},
        {"admin: revoke unknown key", 1, "POST", "/maintenance/keys/999999/revoke", "", 404, "not_found", nullptr},
        {"admin: job id in words", 1, "GET", "/maintenance/jobs/abc", "", 404, "not_found", nullptr},
        {"admin: unknown sweep", 1, "POST", "/maintenance/sweeps/nope/run", "", 404, nullptr, nullptr},
        {"admin: whitelist unknown upload", 1, "POST", "/maintenance/uploads/999999/whitelist", "", 404, "not_found",
         nullptr},
    };
    for (const auto& k : cases) {
        BOOST_TEST_CONTEXT(k.name << ": " << k.method << " " << k.path) {
            const auto before = fingerprint();
            const auto files_before = files();
            auto r = test::http_request_as(k.port_kind == 0 ? key : op, k.port_kind == 0 ? stack.port() : stack.admin_port(),
                                           k.method, k.path, k.body, k.content_type);
            BOOST_TEST(r.status == k.status, "body: " << r.body.substr(0, 300));
            BOOST_TEST(e2e::is_error_body(r.body), "body: " << r.body.substr(0, 300));
            if (k.code) BOOST_TEST(e2e::error_member(r.body, "code") == k.code);
            if (k.field) BOOST_TEST(e2e::error_member(r.body, "field") == k.field);
            BOOST_TEST(fingerprint() == before, "something was written");
            BOOST_TEST(files() == files_before, "a file was left behind");
        }
    }
    check_still_serving();
}

BOOST_AUTO_TEST_CASE(body_over_the_request_limit_gets_413_and_no_row) {
    stack.start_api({{"DROVER_MAX_REQUEST_BYTES", "4096"}});
    // A job that would be valid, were it not 10 KB.
    std::string big = R"({"kind": "echo_args", "args": {"pad": ")" + repeat('x', 10 * 1024) + "\"}}";
    auto r = stack.post_job(big);
    BOOST_TEST(r.status == 413, "body: " << r.body);
    BOOST_TEST(e2e::is_error_body(r.body), "413 body is not a JSON error: " << r.body);
    BOOST_TEST(rows() == 0);

    // Still serving, and a request under the limit is accepted.
    check_still_serving();
    std::string fits = R"({"kind": "echo_args", "args": {"pad": ")" + repeat('y', 3000) + "\"}}";
    auto ok = stack.post_job(fits);
    BOOST_TEST(ok.status == 202, "body: " << ok.body);
    BOOST_TEST(rows() == 1);
    auto conn = stack.database().connect();
    BOOST_TEST(e2e::scalar(conn, "SELECT length(args->>'pad') FROM drover.jobs") == 3000);
}

BOOST_AUTO_TEST_CASE(bad_content_length_headers_do_not_crash_the_api) {
    stack.start_api();
    struct Case {
        const char* header;
        const char* body;
    };
    // Not a number, negative, beyond 64 bits, shorter than the body, and a
    // claim far over the limit with no body behind it.
    const Case cases[] = {{"abc", R"({"kind": "noop"})"},
                          {"-5", R"({"kind": "noop"})"},
                          {"99999999999999999999999", R"({"kind": "noop"})"},
                          {"3", R"({"kind": "noop"})"},
                          {"1, 2", R"({"kind": "noop"})"},
                          {"20000000000", R"({"kind": "noop"})"}};
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("Content-Length: " << c.header) {
            auto r = post_with_content_length(stack.port(), c.header, c.body, 1500);
            BOOST_WARN_MESSAGE(r.status == 400 || r.status == 413,
                               "expected 400 or 413, got " << r.status << ": " << r.body);
            BOOST_WARN_MESSAGE(r.status == 0 || e2e::is_error_body(r.body), "not a JSON error: " << r.body);
            BOOST_TEST(r.status != 200);
            BOOST_TEST(r.status != 202);
            check_still_serving();
            BOOST_TEST(rows() == 0);
        }
    }
    // A normal request afterwards is served as usual.
    BOOST_TEST(stack.post_job(R"({"kind": "noop"})").status == 202);
    BOOST_TEST(rows() == 1);
}

BOOST_AUTO_TEST_CASE(stalled_clients_do_not_block_other_requests) {
    // One reactor thread: a stalled client that blocked it would block everyone.
    stack.start_api({{"DROVER_API_THREADS", "1"}});
    std::vector<std::unique_ptr<e2e::RawConnection>> stalled;
    const std::string partials[] = {
        "",                                        // connected, says nothing
        "POST /v1/jo",                             // half a request line
        "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty",  // half the headers
        "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n{\"kind\": \"no",  // headers, then part of the body
    };
    for (const auto& bytes : partials) {
        stalled.push_back(std::make_unique<e2e::RawConnection>(stack.port()));
        BOOST_REQUIRE(stalled.back()->send(bytes));
    }
    std::this_thread::sleep_for(200ms);

    for (int i = 0; i < 5; ++i) {
        auto started = std::chrono::steady_clock::now();
        auto created = stack.post_job(R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})");
        auto fetched = stack.get_job(test::json_field(created.body, "id"));
        auto took = std::chrono::steady_clock::now() - started;
        BOOST_TEST(created.status == 202);
        BOOST_TEST(fetched.status == 200);
        BOOST_TEST((took < 2s), "two requests took "
                                    << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    }
    // The stalled clients got no answer, and their half-sent job is not stored.
    for (auto& s : stalled) BOOST_TEST(s->read_response(50ms).status == 0);
    BOOST_TEST(rows() == 5);
    check_still_serving();
}

BOOST_AUTO_TEST_CASE(wrong_method_is_refused) {
    stack.start_api();
    auto r = test::http_request(stack.port(), "DELETE", "/v1/jobs");
    BOOST_TEST(r.status == 405);
    BOOST_WARN_MESSAGE(e2e::is_error_body(r.body), "405 body is not a JSON error: " << r.body);
    auto put = test::http_request(stack.port(), "PUT", "/v1/jobs", R"({"kind": "noop"})");
    BOOST_TEST(put.status == 405);
    BOOST_TEST(rows() == 0);
    check_still_serving();
}

// Errors found before a handler runs (request over the limit, wrong method on
// a known path, bad Content-Length) are JSON errors with an X-Request-Id,
// like every other error (api/request_guard.cpp answers them).
BOOST_AUTO_TEST_CASE(errors_before_routing_are_json) {
    stack.start_api({{"DROVER_MAX_REQUEST_BYTES", "4096"}});
    auto too_big = stack.post_job(R"({"kind": "echo_args", "args": {"pad": ")" + repeat('x', 10240) + "\"}}");
    BOOST_TEST(too_big.status == 413);
    BOOST_TEST(e2e::is_error_body(too_big.body), "413 body: " << too_big.body);
    BOOST_TEST(!too_big.headers["x-request-id"].empty());

    auto method = test::http_request(stack.port(), "DELETE", "/v1/jobs");
    BOOST_TEST(method.status == 405);
    BOOST_TEST(e2e::is_error_body(method.body), "405 body: " << method.body);

    for (const char* length : {"-5", "99999999999999999999999"}) {
        BOOST_TEST_CONTEXT("Content-Length: " << length) {
            auto r = post_with_content_length(stack.port(), length, R"({"kind": "noop"})", 1500);
            BOOST_TEST(r.status == 400, "body: " << r.body);
            BOOST_TEST(e2e::is_error_body(r.body), "body: " << r.body);
        }
    }
}

// A Content-Length over DROVER_MAX_REQUEST_BYTES is refused as soon as the
// headers arrive, without waiting for the body, and nothing reserves the
// claimed size (a 20 GB claim once raised drover-api's VmPeak to ~19 GB).
BOOST_AUTO_TEST_CASE(oversized_content_length_is_refused_when_the_headers_arrive) {
    stack.start_api({{"DROVER_MAX_REQUEST_BYTES", "4096"}});
    // Growth, not the absolute figure: AddressSanitizer alone reserves terabytes of address space.
    auto vm_peak_kb = [&] {
        std::ifstream status("/proc/" + std::to_string(stack.api().pid()) + "/status");
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("VmPeak:", 0) == 0) return std::stoll(line.substr(7));
        }
        return -1LL;
    };
    auto before = vm_peak_kb();
    BOOST_REQUIRE(before > 0);
    for (const char* length : {"5000", "20000000000", "200000000000"}) {
        BOOST_TEST_CONTEXT("Content-Length: " << length) {
            auto r = post_with_content_length(stack.port(), length, R"({"kind": "noop")", 2000);
            BOOST_TEST(r.status == 413, "body: " << r.body);
        }
    }
    auto grown = vm_peak_kb() - before;
    BOOST_TEST(grown < 1024 * 1024, "VmPeak grew by " << grown << " kB");  // under 1 GiB
    check_still_serving();
}

// ---------------------------------------------------------------------------
// Product bugs, reproduced (run with DROVER_E2E_KNOWN_BUGS=1).

// Found while writing these tests: RapidJSON's recursive parser let ~150 KB
// of '[' overflow the reactor thread's stack (SIGSEGV). Nesting is now capped.
BOOST_AUTO_TEST_CASE(deeply_nested_json_is_refused_not_a_crash) {
    stack.start_api();
    auto r = stack.post_job(repeat('[', 200000));
    BOOST_TEST(r.status == 400, "body: " << r.body);
    BOOST_TEST(e2e::error_member(r.body, "code") == "malformed_json");
    std::this_thread::sleep_for(300ms);
    BOOST_TEST_REQUIRE(stack.api().running(), "drover-api died:\n" << stack.output());
    check_still_serving();
    // Deep but balanced JSON inside args: refused (or stored), never a crash.
    auto nested = stack.post_job(R"({"kind": "echo_args", "args": {"a": )" + repeat('[', 100000) +
                                 repeat(']', 100000) + "}}");
    BOOST_TEST(nested.status != 0);
    BOOST_TEST(stack.api().running());
}

// Strings used to be copied up to the first U+0000, so "noop\u0000junk" ran
// as "noop" and a field "priority\u0000" slipped past the unknown-field check.
BOOST_AUTO_TEST_CASE(nul_in_strings_is_refused_not_truncated) {
    stack.start_api();
    const std::pair<const char*, const char*> cases[] = {
        {R"({"kind": "noop\u0000junk"})", "kind"},
        {R"({"kind": "noop", "queue": "default\u0000 not a queue!"})", "queue"},
        {R"({"kind": "noop", "unique_key": "a\u0000b"})", "unique_key"},
        {R"({"kind": "noop", "priority\u0000": "not an int"})", "priority\u0000"},
    };
    for (const auto& [body, field] : cases) {
        BOOST_TEST_CONTEXT(body) {
            auto r = stack.post_job(body);
            BOOST_TEST(r.status == 422, "body: " << r.body);
        }
    }
    BOOST_TEST(rows() == 0);
}

// A run_at that matches the RFC 3339 pattern but is no real instant
// (30 February, month 13, offset +99:00) is refused by Postgres; the error
// names the field.
BOOST_AUTO_TEST_CASE(impossible_run_at_is_refused_naming_the_field) {
    stack.start_api();
    for (const char* run_at : {"2026-02-30T00:00:00Z", "2026-13-45T99:99:99Z", "2026-01-01T00:00:00+99:00"}) {
        BOOST_TEST_CONTEXT(run_at) {
            auto r = stack.post_job(std::string(R"({"kind": "noop", "run_at": ")") + run_at + "\"}");
            BOOST_TEST(r.status == 422);
            BOOST_TEST(e2e::error_member(r.body, "field") == "run_at", "body: " << r.body);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
