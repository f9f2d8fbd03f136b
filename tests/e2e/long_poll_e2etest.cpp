// Long-polling end to end (api/long_poll.hpp), real drover-api, drover-worker
// and Postgres: a status change, a progress report and a log line each wake
// the waiter at once (the figure is printed); time-outs answer with the
// unchanged state; another app's job is a 404 at once; 1,000 parked waiters
// hold neither threads nor database connections while other requests are
// served; and waiters parked across a Postgres restart are still answered.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/private_postgres.hpp"
#include "tests/support/test_database.hpp"
#include "tests/support/wait.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

long ms(Clock::duration d) { return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()); }

struct Answer {
    test::HttpResponse response;
    Clock::time_point at;
};

// GET `path` on a thread of its own; the future holds the answer and when it came.
std::future<Answer> wait_on(int port, const std::string& path) {
    return std::async(std::launch::async, [port, path] {
        auto r = test::http_request(port, "GET", path);
        return Answer{std::move(r), Clock::now()};
    });
}

// True when `f` has not been answered after `d`.
bool still_waiting(std::future<Answer>& f, Clock::duration d) { return f.wait_for(d) == std::future_status::timeout; }

std::string insert_job(db::Connection& c, const std::string& app = "default", const std::string& kind = "noop") {
    return std::string(c.exec("SELECT (drover.enqueue('" + kind + "', run_at => now() + interval '1 day', app => '" +
                              app + "')).id")
                           .text(0, 0));
}

// The jobs the API's connections see, by application_name (its pool and the long-poll listener).
std::int64_t api_backends(db::Connection& c) {
    return e2e::scalar(c,
                       "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND application_name LIKE 'drover-api%'");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(long_poll_e2etest)

BOOST_AUTO_TEST_CASE(status_progress_and_log_line_each_wake_the_waiter_at_once) {
    auto dir = std::filesystem::temp_directory_path() / ("drover-lp-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    // The job moves on when the test creates a file: progress, then a log line, then it ends.
    std::string d = dir.string();
    std::string script = "until [ -e " + d + "/p ]; do sleep 0.005; done; echo 'progress 40 half' >&3; "
                         "until [ -e " + d + "/l ]; do sleep 0.005; done; echo hello; "
                         "until [ -e " + d + "/f ]; do sleep 0.005; done";
    test::DroverStack stack(e2e::kinds_file({e2e::CommandKind("stepper", script).shares(d).timeout(60)}));
    stack.start_api();
    stack.start_worker();
    auto c = stack.database().connect();
    int port = stack.port();
    auto id = insert_job(c, "default", "stepper");
    auto touch = [&](const char* name) { std::ofstream(dir / name) << "x"; };

    // pending → running: the claim wakes it. Timed from the UPDATE that makes the job due.
    auto status_wait = wait_on(port, "/v1/jobs/" + id + "?wait=20");
    BOOST_REQUIRE(still_waiting(status_wait, 300ms));  // parked, pending, no change yet
    auto t0 = Clock::now();
    c.exec("UPDATE drover.jobs SET run_at = now() WHERE id = " + id + "; SELECT pg_notify('drover_jobs', 'default')");
    BOOST_REQUIRE(status_wait.wait_for(5s) == std::future_status::ready);
    auto a = status_wait.get();
    BOOST_TEST(a.response.status == 200);
    BOOST_TEST(test::json_field(a.response.body, "status") == "running");
    BOOST_TEST_MESSAGE("long poll: due -> claimed -> waiter answered in " << ms(a.at - t0) << " ms");
    BOOST_TEST(ms(a.at - t0) < 1000);

    // Progress: parked while running with no progress, woken by the report (flushed within ~200 ms).
    auto progress_wait = wait_on(port, "/v1/jobs/" + id + "?wait=20");
    BOOST_REQUIRE(still_waiting(progress_wait, 300ms));
    t0 = Clock::now();
    touch("p");
    BOOST_REQUIRE(progress_wait.wait_for(5s) == std::future_status::ready);
    a = progress_wait.get();
    BOOST_TEST(a.response.status == 200);
    auto doc = e2e::parse_json(a.response.body);
    BOOST_REQUIRE(doc.IsObject() && doc.HasMember("progress") && doc["progress"].IsObject());
    BOOST_TEST(doc["progress"]["percent"].GetInt() == 40);
    BOOST_TEST_MESSAGE("long poll: progress written -> waiter answered in " << ms(a.at - t0) << " ms");
    BOOST_TEST(ms(a.at - t0) < 1000);

    // A log line: the logs wait after the last cursor (0: none yet) wakes with it.
    auto last = e2e::scalar(c, "SELECT coalesce(max(id), 0) FROM drover.job_logs WHERE job_id = " + id);
    auto logs_wait = wait_on(port, "/v1/jobs/" + id + "/logs?after=" + std::to_string(last) + "&wait=20");
    BOOST_REQUIRE(still_waiting(logs_wait, 300ms));
    t0 = Clock::now();
    touch("l");
    BOOST_REQUIRE(logs_wait.wait_for(5s) == std::future_status::ready);
    a = logs_wait.get();
    BOOST_TEST(a.response.status == 200);
    doc = e2e::parse_json(a.response.body);
    BOOST_REQUIRE(doc.IsObject() && doc["lines"].IsArray() && doc["lines"].Size() >= 1u);
    BOOST_TEST(std::string(doc["lines"][doc["lines"].Size() - 1]["line"].GetString()) == "hello");
    BOOST_TEST_MESSAGE("long poll: log line written -> waiter answered in " << ms(a.at - t0) << " ms");
    BOOST_TEST(ms(a.at - t0) < 1000);

    // A status wait is not woken by a log line, only by its own kind of change: the end.
    auto end_wait = wait_on(port, "/v1/jobs/" + id + "?wait=20");
    BOOST_REQUIRE(still_waiting(end_wait, 300ms));
    c.exec("INSERT INTO drover.job_logs (job_id, attempt, stream, at, line) VALUES (" + id +
           ", 1, 'stdout', now(), 'by hand')");
    BOOST_TEST(still_waiting(end_wait, 300ms));
    t0 = Clock::now();
    touch("f");
    BOOST_REQUIRE(end_wait.wait_for(5s) == std::future_status::ready);
    a = end_wait.get();
    BOOST_TEST(test::json_field(a.response.body, "status") == "succeeded");
    BOOST_TEST_MESSAGE("long poll: job ended -> waiter answered in " << ms(a.at - t0) << " ms");
    BOOST_TEST(ms(a.at - t0) < 1000);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(time_up_answers_the_unchanged_state_and_foreign_jobs_are_404_at_once) {
    test::DroverStack stack;
    stack.start_api();
    auto c = stack.database().connect();
    int port = stack.port();
    auto id = insert_job(c);
    // A change that is neither status nor progress (run_at, a heartbeat-like lease) does not wake it.
    auto t0 = Clock::now();
    auto w = wait_on(port, "/v1/jobs/" + id + "?wait=2");
    std::this_thread::sleep_for(300ms);
    c.exec("UPDATE drover.jobs SET run_at = run_at + interval '1 hour' WHERE id = " + id);
    auto a = w.get();
    BOOST_TEST(a.response.status == 200);
    BOOST_TEST(test::json_field(a.response.body, "status") == "pending");
    BOOST_TEST((a.at - t0 >= 2s && a.at - t0 < 3500ms), "answered after " << ms(a.at - t0) << " ms");

    // Logs: no line after the cursor within the time → an empty page, same cursor.
    t0 = Clock::now();
    auto r = test::http_request(port, "GET", "/v1/jobs/" + id + "/logs?after=0&wait=1");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == R"({"lines":[],"next_cursor":"0"})");
    BOOST_TEST((Clock::now() - t0 >= 1s && Clock::now() - t0 < 2500ms));

    // Another app's job answers exactly as an unknown id, at once.
    c.exec("INSERT INTO drover.apps (name) VALUES ('other')");
    auto foreign = insert_job(c, "other");
    std::vector<std::string> bodies;
    for (const auto& path : std::vector<std::string>{"/v1/jobs/" + foreign + "?wait=10", "/v1/jobs/987654321?wait=10",
                             "/v1/jobs/" + foreign + "/logs?wait=10", "/v1/jobs/987654321/logs?wait=10"}) {
        t0 = Clock::now();
        auto nf = test::http_request(port, "GET", path);
        BOOST_TEST(nf.status == 404, path);
        BOOST_TEST(ms(Clock::now() - t0) < 1000, path << " took " << ms(Clock::now() - t0) << " ms");
        auto doc = e2e::parse_json(nf.body);
        BOOST_REQUIRE(doc.IsObject() && doc.HasMember("error"));
        bodies.push_back(e2e::error_member(nf.body, "code") + "|" + e2e::error_member(nf.body, "message"));
    }
    BOOST_TEST(bodies[0] == bodies[1]);
    BOOST_TEST(bodies[2] == bodies[3]);
    // The other app's job was left alone.
    BOOST_TEST(e2e::text_value(c, "SELECT status::text FROM drover.jobs WHERE id = " + foreign) == "pending");
}

BOOST_AUTO_TEST_CASE(a_thousand_waiters_hold_no_threads_nor_connections_and_others_are_served) {
    test::DroverStack stack;
    stack.start_api();
    auto c = stack.database().connect();
    int port = stack.port();
    constexpr int n = 1000;
    c.exec("SELECT drover.enqueue('noop', run_at => now() + interval '1 day') FROM generate_series(1, " +
           std::to_string(n) + ")");
    auto ids = c.exec("SELECT id FROM drover.jobs ORDER BY id");
    BOOST_REQUIRE_EQUAL(ids.rows(), n);
    auto backends_before = api_backends(c);
    auto threads_of = [](long pid) {
        std::ifstream status("/proc/" + std::to_string(pid) + "/status");
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("Threads:", 0) == 0) return std::stol(line.substr(8));
        }
        return -1L;
    };
    auto threads_before = threads_of(stack.api().pid());

    std::vector<std::unique_ptr<e2e::RawConnection>> waiters;
    for (int i = 0; i < n; ++i) {
        waiters.push_back(std::make_unique<e2e::RawConnection>(port));
        BOOST_REQUIRE(waiters.back()->send(
            e2e::request_bytes("GET", "/v1/jobs/" + std::string(ids.text(i, 0)) + "?wait=30")));
    }
    // Parked: none is answered while nothing changes (a request not parked
    // yet would be answered "cancelled" at once after the UPDATE below, so
    // this silence is what shows they waited).
    std::this_thread::sleep_for(1500ms);
    int early = 0;
    for (auto& w : waiters) early += w->read_response(1ms).status != 0;
    BOOST_TEST(early == 0);

    // Meanwhile other requests are served at once.
    for (int i = 0; i < 5; ++i) {
        auto t0 = Clock::now();
        BOOST_TEST(test::http_request(port, "GET", "/healthz").status == 200);
        auto health_ms = ms(Clock::now() - t0);
        t0 = Clock::now();
        auto created = test::http_request(port, "POST", "/v1/jobs", R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})");
        auto post_ms = ms(Clock::now() - t0);
        BOOST_TEST(created.status == 202);
        BOOST_TEST(health_ms < 500, "GET /healthz took " << health_ms << " ms");
        BOOST_TEST(post_ms < 500, "POST /v1/jobs took " << post_ms << " ms");
    }
    // Neither a thread nor a connection per waiter.
    auto backends = api_backends(c);
    auto threads = threads_of(stack.api().pid());
    BOOST_TEST_MESSAGE("1,000 waiters: API backends " << backends_before << " -> " << backends << ", threads "
                                                      << threads_before << " -> " << threads);
    BOOST_TEST(threads <= threads_before + 2);
    BOOST_TEST(backends <= 8);  // the pool (4) and the listener, whatever the waiters
    // GET /status counts them (what an operator watches).
    auto status = e2e::parse_json(test::http_request(port, "GET", "/status").body);
    BOOST_TEST_REQUIRE(status.HasMember("long_poll"));
    BOOST_TEST(status["long_poll"]["waiting"].GetUint64() == static_cast<std::uint64_t>(n));

    // One statement changes all 1,000: every waiter is answered, with the new status.
    auto t0 = Clock::now();
    c.exec("UPDATE drover.jobs SET status = 'cancelled', finished_at = now() WHERE status = 'pending'");
    int answered = 0;
    for (auto& w : waiters) {
        auto r = w->read_response(10s);
        if (r.status == 200 && test::json_field(r.body, "status") == "cancelled") ++answered;
    }
    BOOST_TEST_MESSAGE("1,000 waiters answered " << ms(Clock::now() - t0) << " ms after one UPDATE");
    BOOST_TEST(answered == n);
    BOOST_TEST(ms(Clock::now() - t0) < 5000);
}

BOOST_AUTO_TEST_CASE(waiters_parked_across_a_postgres_restart_are_answered) {
    test::PrivatePostgres pg;
    test::DroverStack stack;  // for its state folder; the API uses pg
    {
        db::Connection conn(pg.url());
        std::string k = test::default_api_key;
        conn.exec("INSERT INTO drover.api_keys (app, role, prefix, hash, name)"
                  " VALUES ('default', 'admin', $1, sha256(convert_to($2, 'UTF8')), 'tests')",
                  db::Params().add(k.substr(0, k.rfind('_'))).add(k));
    }
    stack.start_api({{"DROVER_DATABASE_URL", pg.url()}});
    int port = stack.port();
    std::string changed, unchanged;
    {
        db::Connection conn(pg.url());
        changed = insert_job(conn);
        unchanged = insert_job(conn);
    }
    auto w_changed = wait_on(port, "/v1/jobs/" + changed + "?wait=15");
    auto w_unchanged = wait_on(port, "/v1/jobs/" + unchanged + "?wait=4");
    BOOST_REQUIRE(still_waiting(w_changed, 500ms));
    pg.stop();
    std::this_thread::sleep_for(1s);
    pg.start();
    // Changed right after the restart, maybe before the listener is back: the
    // look at every waiter after the reconnect (or the notification) finds it.
    Clock::time_point t0;
    test::wait_until([&] {
        try {
            db::Connection conn(pg.url());
            conn.exec("UPDATE drover.jobs SET status = 'cancelled', finished_at = now() WHERE id = " + changed);
            t0 = Clock::now();
            return true;
        } catch (const std::exception&) {
            return false;
        }
    });
    BOOST_REQUIRE(w_changed.wait_for(10s) == std::future_status::ready);
    auto a = w_changed.get();
    BOOST_TEST(a.response.status == 200, a.response.body);
    BOOST_TEST(test::json_field(a.response.body, "status") == "cancelled");
    BOOST_TEST_MESSAGE("after a Postgres restart: answered " << ms(a.at - t0) << " ms after the change");
    BOOST_TEST(ms(a.at - t0) < 6000);
    // The other one still waits out its time, then answers the unchanged job.
    auto b = w_unchanged.get();
    BOOST_TEST(b.response.status == 200, b.response.body);
    BOOST_TEST(test::json_field(b.response.body, "status") == "pending");
    BOOST_TEST(stack.api().running());
    // And a waiter parked after the restart is woken by a notification again
    // (once the API's other connections are back: a stale one answers one 503).
    BOOST_REQUIRE(e2e::poll_until([&] { return test::http_request(port, "GET", "/v1/jobs/" + unchanged).status == 200; },
                                  10s, 100ms));
    auto w_after = wait_on(port, "/v1/jobs/" + unchanged + "?wait=15");
    if (!still_waiting(w_after, 500ms)) {
        auto early = w_after.get();
        BOOST_FAIL("answered before any change: " << early.response.status << " " << early.response.body << "\n"
                                                   << stack.output());
    }
    {
        db::Connection conn(pg.url());
        t0 = Clock::now();
        conn.exec("UPDATE drover.jobs SET status = 'cancelled', finished_at = now() WHERE id = " + unchanged);
    }
    BOOST_REQUIRE(w_after.wait_for(5s) == std::future_status::ready);
    a = w_after.get();
    BOOST_TEST(test::json_field(a.response.body, "status") == "cancelled");
    BOOST_TEST(ms(a.at - t0) < 1000);
}

// The triggers of migration 20261201000050 themselves: nothing at all while
// nobody watches a job; while someone does, one "*" per statement that
// updates jobs or inserts log lines, whatever the rows.
BOOST_AUTO_TEST_CASE(triggers_notify_once_per_statement_and_only_while_someone_waits) {
    test::TestDatabase database;
    auto listener = database.connect();
    auto writer = database.connect();
    listener.exec("LISTEN drover_job_changes");
    auto a = insert_job(writer), b = insert_job(writer), cj = insert_job(writer);
    auto notes = [&] {
        std::this_thread::sleep_for(300ms);
        listener.consume_input();
        std::vector<std::string> out;
        for (const auto& n : listener.take_notifications()) out.push_back(n.payload);
        return out;
    };
    auto all3 = " WHERE id IN (" + a + ", " + b + ", " + cj + ")";
    writer.exec("UPDATE drover.jobs SET progress_percent = 5" + all3);
    writer.exec("INSERT INTO drover.job_logs (job_id, attempt, stream, at, line) VALUES (" + a +
                ", 1, 'stdout', now(), 'x')");
    BOOST_TEST(notes().empty());  // nobody waits: no NOTIFY at all

    listener.exec("SELECT drover.watch_jobs(ARRAY[" + a + ", " + b + "]::bigint[])");
    writer.exec("UPDATE drover.jobs SET progress_percent = 10" + all3);
    auto got = notes();
    BOOST_REQUIRE_EQUAL(got.size(), 1u);  // one per statement, not per row
    BOOST_TEST(got[0] == "*");
    writer.exec("INSERT INTO drover.job_logs (job_id, attempt, stream, at, line) SELECT j, 1, 'stdout', now(), 'x' "
                "FROM unnest(ARRAY[" + a + ", " + a + ", " + cj + "]::bigint[]) AS j");
    got = notes();
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_TEST(got[0] == "*");
    // Unwatched again: silence again.
    listener.query("long_poll/unwatch", db::Params().add(std::vector<std::int64_t>{std::stoll(a), std::stoll(b)}));
    writer.exec("UPDATE drover.jobs SET progress_percent = 20" + all3);
    BOOST_TEST(notes().empty());
    // A listener that is gone leaves its rows until the next one cleans up.
    listener.exec("SELECT drover.watch_jobs(ARRAY[" + a + "]::bigint[])");
    // A std::string: text() views into the Result, gone at the end of the statement.
    std::string pid(listener.exec("SELECT pg_backend_pid()").text(0, 0));
    BOOST_TEST(e2e::scalar(writer, "SELECT count(*) FROM drover.job_waiters WHERE listen_pid = " + std::string(pid)) == 1);
    { auto gone = std::move(listener); }
    BOOST_REQUIRE(e2e::poll_until(
        [&] {
            writer.query("long_poll/forget_gone");
            return e2e::scalar(writer, "SELECT count(*) FROM drover.job_waiters") == 0;
        },
        5s, 100ms));
}

BOOST_AUTO_TEST_SUITE_END()
