// A worker's life, end to end: graceful SIGTERM (jobs finish, or go back to
// pending without using an attempt once the grace period is over), refusing
// to start on a bad kinds file, and job timeouts that kill the job's whole
// process group.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/wait.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

struct Fixture {
    e2e::TempDir pids;
    test::DroverStack stack{e2e::kinds_file({
        // Writes the shell's pid and its background sleep's pid, then waits:
        // both are in the job's process group.
        e2e::CommandKind("hang",
                         R"(echo $$ > "$PIDS/$DROVER_JOB_ID.sh"; sleep 30 & echo $! > "$PIDS/$DROVER_JOB_ID.sleep"; wait)")
            .timeout(1)
            .attempts(1)
            .with_env("PIDS", pids.str()).shares(pids.str()),
        // The same without a timeout.
        e2e::CommandKind("hang_long",
                         R"(echo $$ > "$PIDS/$DROVER_JOB_ID.sh"; sleep 30 & echo $! > "$PIDS/$DROVER_JOB_ID.sleep"; wait)")
            .attempts(3)
            .with_env("PIDS", pids.str()).shares(pids.str()),
        // The same, deaf to SIGTERM (the ignore is inherited by the sleep).
        e2e::CommandKind("hang_deaf",
                         R"(trap '' TERM; echo $$ > "$PIDS/$DROVER_JOB_ID.sh"; sleep 30 & )"
                         R"(echo $! > "$PIDS/$DROVER_JOB_ID.sleep"; wait; wait)")
            .timeout(1)
            .attempts(1)
            .with_env("PIDS", pids.str()).shares(pids.str()),
    })};
    db::Connection conn = stack.database().connect();

    std::string submit(const std::string& body) {
        auto r = stack.post_job(body);
        BOOST_REQUIRE_MESSAGE(r.status == 202, r.body);
        return test::json_field(r.body, "id");
    }

    std::string status(const std::string& id) {
        return e2e::text_value(conn, "SELECT status::text FROM drover.jobs WHERE id = " + id);
    }

    void wait_running(const std::string& id) {
        BOOST_REQUIRE_MESSAGE(e2e::poll_until([&] { return status(id) == "running"; }, 10s, 20ms),
                              "job " << id << " never ran; status " << status(id) << "\n" << stack.output());
    }

    // "running" is set by the claim; a runner thread starts the job a moment
    // later (on a loaded machine, after starting the thread), and a job not
    // yet started is released at once on SIGTERM. For the tests of a job
    // that is really running (the sleep kind leaves no other trace).
    void wait_started(const std::string& id) {
        wait_running(id);
        std::this_thread::sleep_for(300ms);
    }

    long pid_from(const std::string& file) {
        std::string text;
        // The job writes it a moment after it starts.
        e2e::poll_until([&] { return !(text = trimmed(e2e::read_file(pids.path() / file))).empty(); }, 5s, 20ms);
        BOOST_REQUIRE_MESSAGE(!text.empty(), "no pid in " << file);
        // The job wrote its PID inside its sandbox's PID namespace: the host's PID of that process.
        long pid = e2e::host_pid("PIDS=" + pids.str(), std::stol(text));
        BOOST_REQUIRE_MESSAGE(pid > 0, "no process " << text << " of the job in " << file);
        return pid;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(worker_lifecycle_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(sigterm_lets_the_running_job_finish_then_exits_0) {
    stack.start_api();
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_SHUTDOWN_GRACE_S", "10"}})];
    auto id = submit(R"({"kind": "sleep", "args": {"ms": 1500}})");
    wait_started(id);

    auto signalled = Clock::now();
    worker.signal(SIGTERM);
    // A job submitted while stopping is left for another worker.
    BOOST_REQUIRE(e2e::poll_until([&] { return worker.output().find("stopping") != std::string::npos; }, 5s, 10ms));
    auto later = submit(R"({"kind": "noop"})");

    auto code = worker.wait_exit(15s);
    BOOST_REQUIRE_MESSAGE(code.has_value(), "worker still running 15 s after SIGTERM\n" << stack.output());
    BOOST_TEST(*code == 0, stack.output());
    // It waited for the job (up to 1.5 s), not for the 10 s grace period.
    BOOST_TEST(ms_since(signalled) < 8000);

    auto row = conn.exec("SELECT status::text, attempt, lease_owner IS NULL, finished_at - started_at >= "
                         "interval '1500 ms', last_error IS NULL FROM drover.jobs WHERE id = " + id);
    BOOST_REQUIRE_EQUAL(row.rows(), 1);
    BOOST_TEST(row.text(0, 0) == "succeeded");
    BOOST_TEST(row.int64(0, 1) == 1);
    BOOST_TEST(row.boolean(0, 2));
    BOOST_TEST(row.boolean(0, 3));
    BOOST_TEST(row.boolean(0, 4));

    BOOST_TEST(status(later) == "pending");
    BOOST_TEST(e2e::scalar(conn, "SELECT attempt FROM drover.jobs WHERE id = " + later) == 0);
    BOOST_TEST(stack.api().running());
}

BOOST_AUTO_TEST_CASE(sigterm_past_the_grace_period_releases_the_job_without_using_an_attempt) {
    stack.start_api();
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_SHUTDOWN_GRACE_S", "1"}})];
    auto id = submit(R"({"kind": "sleep", "args": {"ms": 60000}, "max_attempts": 3})");
    wait_started(id);
    BOOST_TEST(e2e::scalar(conn, "SELECT attempt FROM drover.jobs WHERE id = " + id) == 1);

    auto signalled = Clock::now();
    worker.signal(SIGTERM);
    auto code = worker.wait_exit(10s);
    auto took = ms_since(signalled);
    BOOST_REQUIRE_MESSAGE(code.has_value(), "worker still running 10 s after SIGTERM\n" << stack.output());
    BOOST_TEST(*code == 0, stack.output());
    BOOST_TEST(took >= 900);   // it did give the job its grace period
    BOOST_TEST(took < 5000);   // and not much more

    // Back to pending, the attempt refunded, no lease, no error, due at once.
    auto row = conn.exec("SELECT status::text, attempt, lease_owner IS NULL AND lease_expires_at IS NULL,"
                         " finished_at IS NULL, errors = '[]' AND last_error IS NULL, run_at <= now()"
                         " FROM drover.jobs WHERE id = " + id);
    BOOST_REQUIRE_EQUAL(row.rows(), 1);
    BOOST_TEST(row.text(0, 0) == "pending");
    BOOST_TEST(row.int64(0, 1) == 0);
    BOOST_TEST(row.boolean(0, 2));
    BOOST_TEST(row.boolean(0, 3));
    BOOST_TEST(row.boolean(0, 4));
    BOOST_TEST(row.boolean(0, 5));

    // The next worker takes it up at once, as attempt 1 again.
    stack.start_worker();
    wait_running(id);
    BOOST_TEST(e2e::scalar(conn, "SELECT attempt FROM drover.jobs WHERE id = " + id) == 1);
}

BOOST_AUTO_TEST_CASE(sigterm_past_the_grace_period_stops_a_command_job_and_its_children) {
    stack.start_api();
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_SHUTDOWN_GRACE_S", "1"}})];
    auto id = submit(R"({"kind": "hang_long"})");
    auto shell = pid_from(id + ".sh");
    auto sleeper = pid_from(id + ".sleep");
    BOOST_TEST(!e2e::process_gone(sleeper));

    auto signalled = Clock::now();
    worker.signal(SIGTERM);
    auto code = worker.wait_exit(10s);
    BOOST_REQUIRE_MESSAGE(code.has_value(), "worker still running 10 s after SIGTERM\n" << stack.output());
    BOOST_TEST(*code == 0, stack.output());
    BOOST_TEST(ms_since(signalled) < 5000);
    // No orphan left behind: the shell and its sleep went with the worker.
    BOOST_TEST(e2e::poll_until([&] { return e2e::process_gone(shell); }, 2s, 20ms), "pid " << shell);
    BOOST_TEST(e2e::poll_until([&] { return e2e::process_gone(sleeper); }, 2s, 20ms), "pid " << sleeper);
    BOOST_TEST(e2e::text_value(conn, "SELECT status || '/' || attempt || '/' || (lease_owner IS NULL)"
                                     " FROM drover.jobs WHERE id = " + id) == "pending/0/true");
    // Its working folder is gone too (the worker removes its slots' folders as it exits).
    auto jobs_dir = stack.dir() / "state" / "jobs";
    BOOST_TEST((!std::filesystem::exists(jobs_dir) || std::filesystem::is_empty(jobs_dir)));
}

BOOST_AUTO_TEST_CASE(second_sigterm_stops_running_jobs_at_once) {
    stack.start_api();
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_SHUTDOWN_GRACE_S", "30"}})];
    auto id = submit(R"({"kind": "sleep", "args": {"ms": 60000}})");
    wait_started(id);
    worker.signal(SIGTERM);
    BOOST_REQUIRE(e2e::poll_until([&] { return worker.output().find("stopping") != std::string::npos; }, 5s, 10ms));
    std::this_thread::sleep_for(200ms);
    BOOST_TEST(worker.running());  // the first one waits for the job
    auto second = Clock::now();
    worker.signal(SIGTERM);
    auto code = worker.wait_exit(10s);
    BOOST_REQUIRE_MESSAGE(code.has_value(), "worker still running 10 s after a second SIGTERM\n" << stack.output());
    BOOST_TEST(*code == 0, stack.output());
    BOOST_TEST(ms_since(second) < 3000);
    BOOST_TEST(e2e::text_value(conn, "SELECT status || '/' || attempt || '/' || (lease_owner IS NULL)"
                                     " FROM drover.jobs WHERE id = " + id) == "pending/0/true");
}

BOOST_AUTO_TEST_CASE(malformed_kinds_file_stops_the_worker_with_a_message_naming_the_problem) {
    e2e::TempDir files;
    // A job is waiting: a worker that refuses to start must not touch it.
    auto waiting = e2e::scalar(conn, "SELECT (drover.enqueue('noop')).id");

    struct Case {
        const char* name;
        const char* text;
        const char* says;  // the message must contain this
    };
    const Case cases[] = {
        {"not JSON", R"({"kinds": {"x": {"command": ["/bin/true"]})", "not valid JSON"},
        {"no kinds object", R"({"jobs": {}})", "\"kinds\" object"},
        {"kinds is an array", R"({"kinds": []})", "\"kinds\" object"},
        {"command not an array", R"({"kinds": {"report": {"command": "/bin/true"}}})", "'command'"},
        {"empty command", R"({"kinds": {"report": {"command": []}}})", "'command'"},
        {"unknown field", R"({"kinds": {"report": {"command": ["/bin/true"], "retries": 3}}})", "'retries'"},
        {"zero timeout", R"({"kinds": {"report": {"command": ["/bin/true"], "timeout_s": 0}}})", "'timeout_s'"},
        {"bad queue", R"({"kinds": {"report": {"command": ["/bin/true"], "queue": "a b"}}})", "'queue'"},
        {"bad exit code", R"({"kinds": {"report": {"command": ["/bin/true"], "permanent_exit_codes": [256]}}})",
         "'permanent_exit_codes'"},
        {"zero concurrency", R"({"kinds": {"report": {"command": ["/bin/true"], "concurrency": 0}}})",
         "kind 'report': 'concurrency'"},
        {"bad kind name", R"({"kinds": {"my report": {"command": ["/bin/true"]}}})", "'my report'"},
        {"built-in name", R"({"kinds": {"sleep": {"command": ["/bin/true"]}}})", "built in"},
    };
    int n = 0;
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("kinds file: " << c.name) {
            auto path = files.file("kinds-" + std::to_string(n++) + ".json");
            std::ofstream(path) << c.text;
            auto& worker = *stack.workers()[stack.start_worker({{"DROVER_KINDS_FILE", path}})];
            auto code = worker.wait_exit(10s);
            BOOST_REQUIRE_MESSAGE(code.has_value(), "worker kept running with a bad kinds file\n" << worker.output());
            BOOST_TEST(*code != 0);
            auto output = worker.output();
            BOOST_TEST(output.find(path) != std::string::npos, output);  // names the file …
            BOOST_TEST(output.find(c.says) != std::string::npos, output);  // … and what is wrong in it
        }
    }
    {
        auto missing = files.file("no-such-kinds.json");
        auto& worker = *stack.workers()[stack.start_worker({{"DROVER_KINDS_FILE", missing}})];
        auto code = worker.wait_exit(10s);
        BOOST_REQUIRE(code.has_value());
        BOOST_TEST(*code != 0);
        BOOST_TEST(worker.output().find(missing) != std::string::npos, worker.output());
    }
    // The API refuses the same file rather than accept kinds no worker knows.
    {
        auto path = files.file("kinds-0.json");
        test::Process api(test::binary_path("drover-api"), {},
                          {{"DROVER_DATABASE_URL", stack.database().url()},
                           {"DROVER_PORT", std::to_string(test::free_port())},
                           {"DROVER_KINDS_FILE", path}});
        auto code = api.wait_exit(10s);
        BOOST_REQUIRE_MESSAGE(code.has_value(), "drover-api kept running with a bad kinds file\n" << api.output());
        BOOST_TEST(*code != 0);
        BOOST_TEST(api.output().find(path) != std::string::npos, api.output());
    }
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE status = 'pending' AND attempt = 0 AND id = " +
                                     std::to_string(waiting)) == 1);
}

BOOST_AUTO_TEST_CASE(timeout_fails_the_job_and_kills_its_whole_process_group) {
    stack.start_api();
    stack.start_worker();
    auto submitted = Clock::now();
    auto id = submit(R"({"kind": "hang"})");
    auto shell = pid_from(id + ".sh");
    auto sleeper = pid_from(id + ".sleep");
    BOOST_TEST(!e2e::process_gone(sleeper));  // really running before the timeout

    auto body = stack.wait_finished(id, 15s);
    auto took = ms_since(submitted);
    BOOST_TEST(test::json_field(body, "status") == "failed", body);
    BOOST_TEST(took >= 900);
    BOOST_TEST(took < 5000, "took " << took << " ms");
    auto doc = e2e::parse_json(body);
    BOOST_REQUIRE(doc.IsObject());
    BOOST_TEST(doc["attempt"].GetInt() == 1);
    auto last_error = test::json_field(body, "last_error");
    BOOST_TEST(last_error.find("timed out") != std::string::npos, last_error);

    // Neither the shell nor the sleep it started outlives the attempt.
    BOOST_TEST(e2e::poll_until([&] { return e2e::process_gone(shell); }, 2s, 20ms), "pid " << shell);
    BOOST_TEST(e2e::poll_until([&] { return e2e::process_gone(sleeper); }, 2s, 20ms), "pid " << sleeper);

    // The runner said why in the job's log.
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.job_logs WHERE job_id = " + id +
                                     " AND stream = 'runner' AND line LIKE '%timed out%'") >= 1);
}

BOOST_AUTO_TEST_CASE(timeout_kills_a_job_that_ignores_sigterm) {
    stack.start_api();
    stack.start_worker();
    auto submitted = Clock::now();
    auto id = submit(R"({"kind": "hang_deaf"})");
    auto shell = pid_from(id + ".sh");
    auto sleeper = pid_from(id + ".sleep");

    // 1 s timeout, then SIGTERM (ignored), then SIGKILL after the kill grace (5 s).
    auto body = stack.wait_finished(id, 20s);
    auto took = ms_since(submitted);
    BOOST_TEST(test::json_field(body, "status") == "failed", body);
    BOOST_TEST(test::json_field(body, "last_error").find("timed out") != std::string::npos, body);
    BOOST_TEST(took < 12000, "took " << took << " ms");
    BOOST_TEST(e2e::poll_until([&] { return e2e::process_gone(shell); }, 2s, 20ms), "pid " << shell);
    BOOST_TEST(e2e::poll_until([&] { return e2e::process_gone(sleeper); }, 2s, 20ms), "pid " << sleeper);
}

BOOST_AUTO_TEST_SUITE_END()
