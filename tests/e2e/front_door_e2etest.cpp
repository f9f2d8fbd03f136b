// The HTTP front door under abuse, against the real drover-api: idle and
// pipelined connections, bodies written before reading, malformed request
// lines, arguments stored exactly as sent, Idempotency-Key, bad settings and
// a PGDATESTYLE in the environment. Each case was a failure of a probe from
// outside (issue 7); assertions check what was answered and what was stored.
#include <boost/test/unit_test.hpp>

#include <sys/resource.h>

#include <memory>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/zip_builder.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    test::DroverStack stack{e2e::kinds_file({e2e::CommandKind("echo_args", "cat > /dev/null")})};

    std::int64_t rows(const std::string& where = "true") {
        auto conn = stack.database().connect();
        return e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE " + where);
    }
};

// The test process holds many sockets of its own; false when it cannot.
bool raise_open_file_limit(rlim_t wanted) {
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < wanted) {
        files.rlim_cur = std::min<rlim_t>(wanted, files.rlim_max);
        setrlimit(RLIMIT_NOFILE, &files);
    }
    return files.rlim_cur >= wanted;
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

std::string printable(const std::string& bytes) {
    std::string out;
    for (char c : bytes) out += c == '\r' ? std::string("\\r") : c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
}

const std::string kFarJob = R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(front_door_e2etest, Fixture)

// 1,001 idle connections once held every file descriptor of the process and
// locked new clients out for a minute.
BOOST_AUTO_TEST_CASE(a_client_is_served_while_1100_connections_sit_idle) {
    BOOST_REQUIRE_MESSAGE(raise_open_file_limit(1400), "this test needs an open-file limit of 1,400 (ulimit -Hn)");
    stack.start_api();
    std::vector<std::unique_ptr<e2e::RawConnection>> idle;
    for (int i = 0; i < 1100; ++i) {
        idle.push_back(std::make_unique<e2e::RawConnection>(stack.port()));
        // Half of them were answered once (kept alive), half never said anything.
        if (i % 2 == 0) {
            auto r = idle.back()->request(e2e::request_bytes("GET", "/healthz"));
            BOOST_REQUIRE_EQUAL(r.status, 200);
            BOOST_TEST(r.headers["connection"] == "keep-alive");
        }
    }
    for (int i = 0; i < 5; ++i) {
        auto started = std::chrono::steady_clock::now();
        auto created = stack.post_job(kFarJob);
        auto took = since(started);
        BOOST_TEST(created.status == 202, "body: " << created.body);
        BOOST_TEST(took.count() < 1000, "a submission took " << took.count() << " ms");
    }
    BOOST_TEST(rows() == 5);
    BOOST_TEST(stack.api().running());
}

BOOST_AUTO_TEST_CASE(past_the_connection_cap_the_idlest_connection_is_closed) {
    stack.start_api({{"DROVER_MAX_CONNECTIONS", "40"}});
    std::vector<std::unique_ptr<e2e::RawConnection>> idle;
    for (int i = 0; i < 60; ++i) {
        idle.push_back(std::make_unique<e2e::RawConnection>(stack.port()));
        BOOST_REQUIRE_EQUAL(idle.back()->request(e2e::request_bytes("GET", "/healthz")).status, 200);
    }
    auto created = stack.post_job(kFarJob);
    BOOST_TEST(created.status == 202);
    // The oldest idle ones made room; the newest are still open.
    int closed_old = 0;
    for (int i = 0; i < 20; ++i) closed_old += idle[i]->closed_by_peer(2s) ? 1 : 0;
    BOOST_TEST(closed_old >= 15);
    BOOST_TEST(idle.back()->request(e2e::request_bytes("GET", "/healthz")).status == 200);
}

BOOST_AUTO_TEST_CASE(past_the_cap_with_no_idle_connection_a_new_one_gets_503) {
    stack.start_api({{"DROVER_MAX_CONNECTIONS", "16"}});
    // Sixteen clients in the middle of a request: none is idle, none may be closed.
    std::vector<std::unique_ptr<e2e::RawConnection>> busy;
    for (int i = 0; i < 16; ++i) {
        busy.push_back(std::make_unique<e2e::RawConnection>(stack.port()));
        BOOST_REQUIRE(busy.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    }
    std::this_thread::sleep_for(200ms);
    e2e::RawConnection extra(stack.port());
    auto r = extra.read_response(3s);
    BOOST_TEST(r.status == 503);
    BOOST_TEST(e2e::error_member(r.body, "code") == "too_many_connections");
    BOOST_TEST(!r.headers["retry-after"].empty());
    BOOST_TEST(extra.closed_by_peer(2s));
    // The busy ones were left alone: they finish their requests.
    auto finished = busy.front()->request("\r\n");
    BOOST_TEST(finished.status == 200);
}

BOOST_AUTO_TEST_CASE(keep_alive_is_kept_after_a_4xx_and_connection_close_really_closes) {
    stack.start_api({{"DROVER_KEEPALIVE_TIMEOUT_S", "2"}});
    e2e::RawConnection c(stack.port());
    auto bad = c.request(e2e::request_bytes("POST", "/v1/jobs", R"({"kind": "no such kind"})"));
    BOOST_TEST(bad.status == 422);
    BOOST_TEST(bad.headers["connection"] == "keep-alive");
    auto good = c.request(e2e::request_bytes("POST", "/v1/jobs", kFarJob));
    BOOST_TEST(good.status == 202);
    auto last = c.request(e2e::request_bytes("GET", "/healthz", "", "Connection: close\r\n"));
    BOOST_TEST(last.status == 200);
    BOOST_TEST(last.headers["connection"] == "close");
    BOOST_TEST(c.closed_by_peer(2s), "the server said Connection: close but kept the socket open");

    // HTTP/1.0 without keep-alive closes too.
    e2e::RawConnection old(stack.port());
    auto r10 = old.request("GET /healthz HTTP/1.0\r\n\r\n");
    BOOST_TEST(r10.status == 200);
    BOOST_TEST(old.closed_by_peer(2s));

    // An idle kept-alive connection is closed after DROVER_KEEPALIVE_TIMEOUT_S.
    e2e::RawConnection idle(stack.port());
    BOOST_TEST(idle.request(e2e::request_bytes("GET", "/healthz")).status == 200);
    auto started = std::chrono::steady_clock::now();
    BOOST_TEST(idle.closed_by_peer(10s));
    BOOST_TEST(since(started).count() >= 1500);
    BOOST_TEST(rows() == 1);
}

// Slow requests get a JSON 408 after 10 s (headers); a kept-alive
// connection between requests is not a slow request and stays open until
// DROVER_KEEPALIVE_TIMEOUT_S (Pistache's own timer once sent it a 408 at 10 s).
BOOST_AUTO_TEST_CASE(a_stalled_request_gets_408_while_an_idle_kept_alive_connection_stays) {
    stack.start_api({{"DROVER_KEEPALIVE_TIMEOUT_S", "60"}});
    e2e::RawConnection idle(stack.port());
    BOOST_REQUIRE_EQUAL(idle.request(e2e::request_bytes("GET", "/healthz")).status, 200);
    e2e::RawConnection stalled(stack.port());
    BOOST_REQUIRE(stalled.send("GET /healthz HTTP/1.1\r\nHo"));
    auto started = std::chrono::steady_clock::now();
    auto timed_out = stalled.read_response(20s);
    BOOST_TEST(timed_out.status == 408);
    BOOST_TEST(e2e::error_member(timed_out.body, "code") == "request_timeout");
    BOOST_TEST(since(started).count() >= 8000);
    BOOST_TEST(stalled.closed_by_peer(3s));
    std::this_thread::sleep_for(1500ms);  // past 10 s for the idle one too
    auto again = idle.request(e2e::request_bytes("GET", "/healthz"));
    BOOST_TEST(again.status == 200, "the kept-alive connection was closed after " << since(started).count() << " ms");
}

// Three requests in one write used to get one answer; the others were neither
// answered nor stored, and the connection hung.
BOOST_AUTO_TEST_CASE(pipelined_requests_are_each_answered_in_order_and_stored) {
    stack.start_api();
    e2e::RawConnection c(stack.port());
    std::string batch = e2e::request_bytes("POST", "/v1/jobs", R"({"kind": "echo_args", "args": {"n": 1}})") +
                        e2e::request_bytes("GET", "/healthz") +
                        e2e::request_bytes("POST", "/v1/jobs", R"({"kind": "no such kind"})") +
                        e2e::request_bytes("POST", "/v1/jobs", R"({"kind": "echo_args", "args": {"n": 2}})") +
                        e2e::request_bytes("GET", "/v1/jobs/1");
    BOOST_REQUIRE(c.send(batch));
    auto first = c.read_response(5s);
    auto health = c.read_response(5s);
    auto refused = c.read_response(5s);
    auto second = c.read_response(5s);
    auto fetched = c.read_response(5s);
    BOOST_TEST(first.status == 202);
    BOOST_TEST(health.status == 200);
    BOOST_TEST(health.body == R"({"status":"ok"})");
    BOOST_TEST(refused.status == 422);
    BOOST_TEST(second.status == 202);
    BOOST_TEST(fetched.status == 200);
    BOOST_TEST(test::json_field(first.body, "id") == "1");
    BOOST_TEST(test::json_field(second.body, "id") == "2");
    BOOST_TEST(test::json_field(fetched.body, "id") == "1");
    BOOST_TEST(rows() == 2);
    BOOST_TEST(rows("args = '{\"n\": 1}'") == 1);
    BOOST_TEST(rows("args = '{\"n\": 2}'") == 1);
    // Still usable afterwards.
    BOOST_TEST(c.request(e2e::request_bytes("GET", "/healthz")).status == 200);
}

// 2 of 24 such clients saw a reset instead of the 413.
BOOST_AUTO_TEST_CASE(a_10_mb_body_written_before_reading_always_gets_413) {
    stack.start_api();
    std::string body = R"({"kind": "echo_args", "args": {"pad": ")" + std::string(10 << 20, 'x') + "\"}}";
    std::string bytes = e2e::request_bytes("POST", "/v1/jobs", body);
    for (int i = 0; i < 6; ++i) {
        BOOST_TEST_CONTEXT("attempt " << i) {
            e2e::RawConnection c(stack.port());
            auto started = std::chrono::steady_clock::now();
            BOOST_TEST(c.send(bytes), "the server stopped reading before the whole body was sent");
            auto r = c.read_response(10s);
            BOOST_TEST(r.status == 413, "got " << r.status);
            BOOST_TEST(e2e::error_member(r.body, "code") == "request_too_large");
            BOOST_TEST(r.headers["connection"] == "close");
            BOOST_TEST(c.closed_by_peer(5s));
            BOOST_TEST(since(started).count() < 5000);
        }
    }
    BOOST_TEST(rows() == 0);
    BOOST_TEST(stack.post_job(kFarJob).status == 202);
}

// Pistache ignored Expect: 100-continue: curl waited a second before each large body.
BOOST_AUTO_TEST_CASE(expect_100_continue_is_answered_before_the_body) {
    stack.start_api();
    e2e::RawConnection c(stack.port());
    const std::string body = kFarJob;
    BOOST_REQUIRE(c.send("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(test::default_api_key) +
                         "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
    auto go_on = c.read_response(2s);
    BOOST_TEST(go_on.status == 100);
    BOOST_REQUIRE(c.send(body));
    auto created = c.read_response(5s);
    BOOST_TEST(created.status == 202, "body: " << created.body);
    BOOST_TEST(rows() == 1);
}

// Each of these waited ~10 s for a plain-text 408.
BOOST_AUTO_TEST_CASE(malformed_request_lines_get_400_at_once) {
    stack.start_api();
    const std::pair<std::string, int> cases[] = {
        {"GARBAGE\r\n\r\n", 400},
        {"GARBAGE", 400},
        {"GET /\r\n", 400},                                        // HTTP/0.9
        {"GET /healthz HTTP/1.1\nHost: x\n\n", 400},                // bare LF
        {"GET /healthz HTTP/1.1\r\nHost: x\n\r\n", 400},            // bare LF in the headers
        {"get /healthz HTTP/1.1\r\n\r\n", 400},
        {"GET /healthz HTTP/2.0\r\n\r\n", 505},
        {"BREW /healthz HTTP/1.1\r\n\r\n", 501},
        {"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n folded: yes\r\n\r\n", 400},
    };
    for (const auto& [bytes, status] : cases) {
        BOOST_TEST_CONTEXT(printable(bytes)) {
            e2e::RawConnection c(stack.port());
            auto started = std::chrono::steady_clock::now();
            auto r = c.request(bytes, 5s);
            BOOST_TEST(r.status == status);
            BOOST_TEST(e2e::is_error_body(r.body), "body: " << r.body);
            BOOST_TEST(since(started).count() < 2000);
            BOOST_TEST(c.closed_by_peer(2s));
        }
    }
    BOOST_TEST(rows() == 0);
}

// A header section over 16 KiB (api/http/request_scan.hpp) is answered 431
// with the JSON error, at once (Pistache's header parser, quadratic in the
// section's size, never sees it), and the connection is closed; the process
// goes on serving. One big header, many small ones, one that never ends, and
// the admin listener.
BOOST_AUTO_TEST_CASE(a_header_section_over_16_kib_gets_431_and_the_connection_closes) {
    stack.start_api();
    std::string many_small;
    for (int i = 0; i < 1200; ++i) many_small += "X-Small-" + std::to_string(i) + ": 1234567\r\n";
    struct Case {
        const char* name;
        int port;
        std::string bytes;
    };
    const std::string auth = std::string("Authorization: Bearer ") + test::default_api_key + "\r\n";
    const Case cases[] = {
        {"one 20 KiB header", stack.port(),
         "POST /v1/jobs HTTP/1.1\r\nHost: x\r\n" + auth + "X-Big: " + std::string(20 * 1024, 'a') +
             "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(kFarJob.size()) + "\r\n\r\n" +
             kFarJob},
        {"1,200 small headers", stack.port(), "POST /v1/jobs HTTP/1.1\r\nHost: x\r\n" + auth + many_small +
                                                   "Content-Length: " + std::to_string(kFarJob.size()) + "\r\n\r\n" +
                                                   kFarJob},
        {"a 2 MiB header that never ends", stack.port(),
         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: " + std::string(2 << 20, 'b')},
        {"the admin listener", stack.admin_port(),
         "GET /maintenance/apps HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17 * 1024, 'c') + "\r\n\r\n"},
    };
    for (const auto& k : cases) {
        BOOST_TEST_CONTEXT(k.name) {
            e2e::RawConnection c(k.port);
            auto started = std::chrono::steady_clock::now();
            auto r = c.request(k.bytes, 5s);
            BOOST_TEST(r.status == 431, "body: " << r.body);
            BOOST_TEST(e2e::is_error_body(r.body), "body: " << r.body);
            BOOST_TEST(e2e::error_member(r.body, "code") == "headers_too_large");
            BOOST_TEST(r.headers["connection"] == "close");
            BOOST_TEST(since(started).count() < 2000);
            BOOST_TEST(c.closed_by_peer(3s), "the connection stayed open after the 431");
            // Still serving, on a new connection.
            BOOST_TEST(test::http_request(stack.port(), "GET", "/healthz").status == 200);
        }
    }
    BOOST_TEST(rows() == 0);
    // Just under the cap is a request like any other.
    e2e::RawConnection ok(stack.port());
    auto accepted = ok.request(e2e::request_bytes("POST", "/v1/jobs", kFarJob, "X-Big: " + std::string(15 * 1024, 'a') + "\r\n"));
    BOOST_TEST(accepted.status == 202, accepted.body);
    BOOST_TEST(accepted.headers["connection"] == "keep-alive");
    BOOST_TEST(rows() == 1);
}

// A body whose Content-Type says it is something else than the route takes
// gets 415 and stores nothing (api/http/media_type.hpp); JSON with a UTF-8
// charset, no Content-Type at all, and zip or octet-stream uploads are taken.
BOOST_AUTO_TEST_CASE(a_body_of_the_wrong_media_type_gets_415_and_nothing_is_stored) {
    stack.start_api();
    auto uploads = [&] {
        auto conn = stack.database().connect();
        return e2e::scalar(conn, "SELECT count(*) FROM drover.uploads");
    };
    const std::string zip = test::ZipBuilder().file("in/a.txt", "hello").bytes();
    const std::string batch = R"({"jobs": [{"kind": "noop", "run_at": "2099-01-01T00:00:00Z"}]})";
    struct Case {
        std::string method, path, content_type, body;
        int status;
    };
    const Case cases[] = {
        {"POST", "/v1/jobs", "application/x-www-form-urlencoded", kFarJob, 415},
        {"POST", "/v1/jobs", "text/plain", kFarJob, 415},
        {"POST", "/v1/jobs", "application/json; charset=iso-8859-1", kFarJob, 415},
        {"POST", "/v1/jobs", "application/zip", kFarJob, 415},
        {"POST", "/v1/jobs/batch", "multipart/form-data; boundary=x", batch, 415},
        {"POST", "/v1/keys", "text/plain", R"({"role": "read"})", 415},
        {"POST", "/v1/uploads", "application/json", zip, 415},
        {"POST", "/v1/uploads", "text/plain", zip, 415},
        {"POST", "/v1/jobs", "application/json; charset=UTF-8", kFarJob, 202},
        {"POST", "/v1/jobs", "", kFarJob, 202},
        {"POST", "/v1/jobs", "Application/JSON", kFarJob, 202},
        {"POST", "/v1/jobs/batch", "application/json", batch, 202},
        {"POST", "/v1/uploads", "application/octet-stream", zip, 201},
        {"POST", "/v1/uploads", "", zip, 201},
    };
    // A Content-Type Pistache's parser cannot read (it answered a plain-text
    // 415 itself): the guard refuses it first, as JSON, and closes.
    for (const char* odd : {"garbage", "foo/bar", "application", "/json", "font/woff2", "application/"}) {
        BOOST_TEST_CONTEXT("Content-Type: " << odd) {
            e2e::RawConnection c(stack.port());
            auto r = c.request("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                               std::string(test::default_api_key) + "\r\nContent-Type: " + odd +
                               "\r\nContent-Length: " + std::to_string(kFarJob.size()) + "\r\n\r\n" + kFarJob);
            BOOST_TEST(r.status == 415, "body: " << r.body);
            BOOST_TEST(e2e::is_error_body(r.body), "body: " << r.body);
            BOOST_TEST(e2e::error_member(r.body, "code") == "unsupported_media_type");
            BOOST_TEST(rows() == 0);
        }
    }
    auto conn = stack.database().connect();
    const std::string keys_sql = "SELECT count(*) FROM drover.api_keys";
    for (const auto& k : cases) {
        BOOST_TEST_CONTEXT(k.method << " " << k.path << " as '" << k.content_type << "'") {
            const auto jobs_before = rows(), uploads_before = uploads(), keys_before = e2e::scalar(conn, keys_sql);
            std::string req = k.method + " " + k.path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              test::default_api_key + "\r\n";
            if (!k.content_type.empty()) req += "Content-Type: " + k.content_type + "\r\n";
            req += "Content-Length: " + std::to_string(k.body.size()) + "\r\n\r\n" + k.body;
            e2e::RawConnection c(stack.port());
            auto r = c.request(req);
            BOOST_TEST(r.status == k.status, "body: " << r.body);
            if (k.status == 415) {
                BOOST_TEST(e2e::is_error_body(r.body), "body: " << r.body);
                BOOST_TEST(e2e::error_member(r.body, "code") == "unsupported_media_type");
                BOOST_TEST(rows() == jobs_before);
                BOOST_TEST(uploads() == uploads_before);
                BOOST_TEST(e2e::scalar(conn, keys_sql) == keys_before);
                // The request was read whole: the connection stays usable.
                BOOST_TEST(c.request(e2e::request_bytes("GET", "/healthz")).status == 200);
            } else if (k.path == "/v1/uploads") {
                BOOST_TEST(uploads() >= 1);
            } else {
                BOOST_TEST(rows() == jobs_before + 1);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(args_are_stored_exactly_as_sent) {
    stack.start_api();
    const std::string args = R"({"big": 123456789012345678901234567890, "u": 18446744073709551617, )"
                             R"("frac": 0.30000000000000000000000000001, "list": [1e2, -0.0000000000000000001]})";
    auto created = stack.post_job(R"({"kind": "echo_args", "args": )" + args + "}");
    BOOST_REQUIRE_EQUAL(created.status, 202);
    auto conn = stack.database().connect();
    BOOST_TEST(e2e::text_value(conn, "SELECT args->>'big' FROM drover.jobs") == "123456789012345678901234567890");
    BOOST_TEST(e2e::text_value(conn, "SELECT args->>'u' FROM drover.jobs") == "18446744073709551617");
    BOOST_TEST(e2e::text_value(conn, "SELECT args->>'frac' FROM drover.jobs") == "0.30000000000000000000000000001");
    BOOST_TEST(e2e::text_value(conn, "SELECT args = $$" + args + "$$::jsonb FROM drover.jobs") == "t");
    // And back out over the API, digit for digit.
    auto fetched = stack.get_job(test::json_field(created.body, "id"));
    BOOST_TEST(fetched.body.find("\"big\": 123456789012345678901234567890") != std::string::npos, fetched.body);
    BOOST_TEST(fetched.body.find("\"u\": 18446744073709551617") != std::string::npos, fetched.body);

    // A duplicate key inside args is refused, as at the top level.
    for (const char* body : {R"({"kind": "echo_args", "args": {"a": 1, "a": 2}})",
                             R"({"kind": "echo_args", "args": {"x": {"b": 1, "b": 1}}})"}) {
        auto r = stack.post_job(body);
        BOOST_TEST(r.status == 422, "body: " << r.body);
        BOOST_TEST(e2e::error_member(r.body, "code") == "duplicate_field");
    }
    BOOST_TEST(rows() == 1);
}

BOOST_AUTO_TEST_CASE(idempotency_key_makes_retries_safe) {
    stack.start_api();
    auto post = [&](const std::string& key, const std::string& body) {
        return test::http_raw(stack.port(),
                              e2e::request_bytes("POST", "/v1/jobs", body, "Idempotency-Key: " + key + "\r\n"));
    };
    const std::string body = R"({"kind": "echo_args", "args": {"order": 42}})";
    auto first = post("order-42", body);
    BOOST_TEST(first.status == 202);
    auto again = post("order-42", body);
    BOOST_TEST(again.status == 202);
    BOOST_TEST(again.headers["idempotent-replayed"] == "true");
    BOOST_TEST(test::json_field(again.body, "id") == test::json_field(first.body, "id"));
    BOOST_TEST(again.headers["location"] == first.headers["location"]);
    auto other = post("order-42", R"({"kind": "echo_args", "args": {"order": 43}})");
    BOOST_TEST(other.status == 422);
    BOOST_TEST(e2e::error_member(other.body, "code") == "idempotency_key_reused");
    BOOST_TEST(post("order-43", body).status == 202);  // another key, another job
    BOOST_TEST(post("bad key with spaces", body).status == 422);
    BOOST_TEST(rows() == 2);

    // Concurrent retries with one key still make one job.
    std::vector<std::thread> threads;
    std::vector<int> statuses(8);
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] { statuses[i] = post("burst", R"({"kind": "noop"})").status; });
    }
    for (auto& t : threads) t.join();
    for (int s : statuses) BOOST_TEST(s == 202);
    BOOST_TEST(rows("kind = 'noop'") == 1);
}

// PGDATESTYLE='SQL, DMY' made the API answer "run_at":"02/01/2030T03:04:05 UTC".
BOOST_AUTO_TEST_CASE(timestamps_ignore_pgdatestyle_in_the_environment) {
    stack.start_api({{"PGDATESTYLE", "SQL, DMY"}, {"PGTZ", "Asia/Tokyo"}, {"PGINTERVALSTYLE", "sql_standard"}});
    auto created = stack.post_job(R"({"kind": "noop", "run_at": "2030-01-02T03:04:05Z"})");
    BOOST_TEST(created.status == 202);
    BOOST_TEST(test::json_field(created.body, "run_at") == "2030-01-02T03:04:05Z", created.body);
    auto fetched = stack.get_job(test::json_field(created.body, "id"));
    BOOST_TEST(test::json_field(fetched.body, "run_at") == "2030-01-02T03:04:05Z", fetched.body);
}

BOOST_AUTO_TEST_CASE(bad_settings_are_refused_at_start_naming_them) {
    struct Case {
        const char* binary;
        std::vector<std::string> args;
        const char* named;
    };
    const Case cases[] = {
        {"drover-api", {"--port", "70000"}, "DROVER_PORT"},
        {"drover-api", {"--port", "80x"}, "DROVER_PORT"},
        {"drover-api", {"--max-connections", "0"}, "DROVER_MAX_CONNECTIONS"},
        {"drover-worker", {"--poll-interval-ms", "0"}, "DROVER_POLL_INTERVAL_MS"},
        {"drover-worker", {"--concurrency", "-3"}, "DROVER_CONCURRENCY"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.binary << " " << c.args[0] << " " << c.args[1]) {
            test::Process p(test::binary_path(c.binary), c.args, {{"DROVER_DATABASE_URL", stack.database().url()}});
            auto status = p.wait_exit(10s);
            BOOST_TEST(status.has_value());
            BOOST_TEST(status.value_or(0) == 2);
            BOOST_TEST(p.output().find(c.named) != std::string::npos, p.output());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
