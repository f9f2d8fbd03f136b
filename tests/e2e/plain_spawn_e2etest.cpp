// Command jobs without the sandbox (DROVER_SANDBOX=off). The worker starts
// such a child with a clone that shares its memory until exec
// (worker/executors/child_process.cpp: no fork of the threaded worker per
// job); the child must still get exactly what a forked one got: its folder
// as working directory, its environment, the kind's limits, only its own
// fds, the parent-death signal — and a program that cannot be executed must
// fail the job with the reason, not hang or kill the worker. A folder a job
// left untouched goes to the next job; any other is removed.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <filesystem>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"

using namespace drover;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string kinds(const e2e::TempDir& out, const std::string& mark) {
    auto text = e2e::kinds_file({
        [&] {
            e2e::CommandKind k("report", R"(pwd > "$OUT/pwd"; ulimit -n > "$OUT/nofile"; ulimit -t > "$OUT/cpu"; )"
                                         R"(echo "$GREETING" > "$OUT/greeting"; ls /proc/self/fd > "$OUT/fds")");
            k.with_env("OUT", out.str()).with_env("GREETING", "hello from the worker");
            k.extra_json = R"("limits": {"cpu_s": 9, "open_files": 48})";
            return k;
        }(),
        e2e::CommandKind("long", "exec sleep 1000").with_env("PLAIN_MARK", mark).attempts(5),
        // Touches nothing; says which folder (inode) it ran in and what args.json held.
        e2e::CommandKind("tidy", R"(stat -c %i . >> "$OUT/inodes"; cat args.json >> "$OUT/args"; echo >> "$OUT/args")")
            .with_env("OUT", out.str()),
        e2e::CommandKind("litter", R"(echo junk > litter; chmod 755 .; echo x > inbound/left)"),
        e2e::CommandKind("inspect", R"(find . -mindepth 1 | sort > "$OUT/seen"; stat -c %a . > "$OUT/mode"; )"
                                    R"(cat args.json > "$OUT/inspected")")
            .with_env("OUT", out.str()),
    });
    // A kind whose program does not exist: exec fails in the child.
    const std::string head = R"({"kinds":{)";
    BOOST_REQUIRE(text.rfind(head, 0) == 0);
    return head + R"("missing":{"command":["/no/such/program"],"max_attempts":1},)" + text.substr(head.size());
}

struct Fixture {
    e2e::TempDir out;
    std::string mark = out.str() + "/mark";
    test::DroverStack stack{kinds(out, mark)};
    db::Connection conn = stack.database().connect();

    std::string submit(const std::string& body) {
        auto r = stack.post_job(body);
        BOOST_REQUIRE_MESSAGE(r.status == 202, r.body);
        return test::json_field(r.body, "id");
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(plain_spawn_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(a_child_started_without_the_sandbox_gets_its_folder_environment_limits_and_fds_only) {
    stack.start_api();
    stack.start_worker({{"DROVER_SANDBOX", "off"}});
    auto id = submit(R"({"kind": "report", "args": {}})");
    auto body = stack.wait_finished(id, 30s);
    BOOST_REQUIRE_MESSAGE(test::json_field(body, "status") == "succeeded", body << "\n" << stack.output());
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "pwd")).find("/" + id + "-1") != std::string::npos,
               e2e::read_file(out.path() / "pwd"));
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "nofile")) == "48");
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "cpu")) == "9");
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "greeting")) == "hello from the worker");
    // stdin, stdout, stderr, the control fd (3) and the one ls opens to list
    // them: none of the worker's sockets or pipes.
    auto fds = e2e::read_lines(out.path() / "fds");
    BOOST_TEST(fds.size() == 5u, e2e::read_file(out.path() / "fds"));
}

BOOST_AUTO_TEST_CASE(a_program_that_cannot_be_executed_fails_the_job_with_the_reason_and_the_worker_goes_on) {
    stack.start_api();
    stack.start_worker({{"DROVER_SANDBOX", "off"}});
    auto id = submit(R"({"kind": "missing", "args": {}})");
    auto body = stack.wait_finished(id, 30s);
    BOOST_TEST(test::json_field(body, "status") == "failed", body);
    auto error = e2e::text_value(conn, "SELECT last_error FROM drover.jobs WHERE id = " + id);
    BOOST_TEST(error.find("No such file or directory") != std::string::npos, error);
    // The worker is still there and runs the next job.
    auto next = submit(R"({"kind": "report", "args": {}})");
    BOOST_TEST(test::json_field(stack.wait_finished(next, 30s), "status") == "succeeded", stack.output());
}

BOOST_AUTO_TEST_CASE(the_child_dies_with_a_killed_worker) {
    stack.start_api();
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_SANDBOX", "off"}})];
    submit(R"({"kind": "long", "args": {}})");
    auto mine = [&] { return e2e::processes_with_env("PLAIN_MARK=" + mark); };
    BOOST_REQUIRE_MESSAGE(e2e::poll_until([&] { return mine().size() == 1; }, 10s, 20ms), stack.output());
    worker.signal(SIGKILL);
    BOOST_REQUIRE(worker.wait_exit(5s).has_value());
    BOOST_TEST(e2e::poll_until([&] { return mine().empty(); }, 3s, 20ms), "still running: " << mine().size());
}

BOOST_AUTO_TEST_CASE(an_untouched_folder_goes_to_the_next_job_and_one_a_job_changed_does_not) {
    stack.start_api();
    stack.start_worker({{"DROVER_SANDBOX", "off"}, {"DROVER_CONCURRENCY", "1"}});
    // Without the sandbox a folder left as it was given is handed on (no
    // inode made or freed per job): the same folder, the new job's args.json
    // only (a shorter one is not followed by the end of the longer).
    auto first = submit(R"({"kind": "tidy", "args": {"n": 1, "padding": "0123456789012345678901234567890123456789"}})");
    BOOST_REQUIRE(test::json_field(stack.wait_finished(first, 30s), "status") == "succeeded");
    // Handed on before the outcome was recorded: the worker's folder holds it as a spare.
    std::size_t spares = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(stack.dir() / "state" / "jobs", ec), end; !ec && it != end;
         it.increment(ec)) {
        if (it.depth() == 1 && it->path().filename().string().rfind(".spare-", 0) == 0) ++spares;
    }
    BOOST_TEST(spares == 1u);
    auto second = submit(R"({"kind": "tidy", "args": {"n": 2}})");
    BOOST_REQUIRE(test::json_field(stack.wait_finished(second, 30s), "status") == "succeeded");
    auto inodes = e2e::read_lines(out.path() / "inodes");
    BOOST_REQUIRE_EQUAL(inodes.size(), 2u);
    BOOST_TEST(inodes[0] == inodes[1]);
    auto args = e2e::read_lines(out.path() / "args");
    BOOST_REQUIRE_EQUAL(args.size(), 2u);
    BOOST_TEST(args[0].find("padding") != std::string::npos, args[0]);
    BOOST_TEST(args[1].find("padding") == std::string::npos, args[1]);
    BOOST_TEST(args[1].find("\"n\"") != std::string::npos, args[1]);
    // A job that left anything (a file, another mode) loses its folder: the
    // next one gets a fresh one with nothing of it.
    auto third = submit(R"({"kind": "litter", "args": {}})");
    BOOST_REQUIRE(test::json_field(stack.wait_finished(third, 30s), "status") == "succeeded");
    auto fourth = submit(R"({"kind": "inspect", "args": {"n": 4}})");
    BOOST_REQUIRE(test::json_field(stack.wait_finished(fourth, 30s), "status") == "succeeded");
    BOOST_TEST(e2e::read_lines(out.path() / "seen") ==
                   (std::vector<std::string>{"./args.json", "./inbound", "./outbound"}),
               e2e::read_file(out.path() / "seen"));
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "mode")) == "700");
    BOOST_TEST(e2e::read_file(out.path() / "inspected").find("\"n\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
