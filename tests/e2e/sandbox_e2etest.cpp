// The command-job sandbox, end to end with real workers (issue 11): a job
// cannot read a sibling's folder, write outside its own, or see the
// worker's database URL; its environment has each variable once; every
// process it started is gone when its attempt ends, detached or not, and
// when its worker is killed with SIGKILL (no second copy then runs beside a
// survivor); the next job sees nothing of the previous one; the folders of
// a dead worker go when the next worker starts.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>

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

struct Fixture {
    e2e::TempDir out;      // shared with the jobs (bound writable)
    e2e::TempDir outside;  // not shared: world-writable, so only the sandbox keeps jobs out
    // Unique to this fixture: finds this suite's job processes among all.
    std::string mark = "SANDBOX_MARK=" + out.str();
    test::DroverStack stack{e2e::kinds_file({
        // Waits, holding a secret in its arguments, until $OUT/release exists.
        e2e::CommandKind("holder", R"(while [ ! -e "$OUT/release" ]; do sleep 0.05; done)")
            .with_env("OUT", out.str())
            .with_env("SANDBOX_MARK", out.str())
            .shares(out.str()),
        // Looks for other jobs' arguments: by the host path it was given, and anywhere it can see.
        e2e::CommandKind("peek",
                         R"(SIBLING=$(cat "$OUT/sibling-path"); cat "$SIBLING/args.json" > "$OUT/peek-direct" 2>&1; )"
                         R"(cat ../*/args.json > "$OUT/peek-parent" 2>&1; )"
                         R"(find / \( -path /proc -o -path /sys -o -path /usr -o -path "$OUT" \) -prune -o )"
                         R"(-name args.json -print > "$OUT/peek-find" 2>/dev/null; )"
                         R"(grep -rl s3cr3t / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr )"
                         R"(--exclude-dir="${OUT#/}" > "$OUT/peek-grep" 2>/dev/null; true)")
            .with_env("OUT", out.str())
            .shares(out.str()),
        // Tries to write outside its folder.
        e2e::CommandKind("escape", R"(echo pwned > "$TARGET/pwned"; echo pwned > ../pwned; echo pwned > /pwned; true)")
            .with_env("TARGET", outside.str()),
        // Its environment, as C sees it (env prints every entry, duplicates too).
        e2e::CommandKind("show_env", R"(env > "$OUT/env-$DROVER_JOB_ID")")
            .with_env("OUT", out.str())
            .with_env("HOME", "/custom-home")
            .shares(out.str()),
        // Leaves a detached process behind and exits at once.
        e2e::CommandKind("detach", R"(setsid sleep 1000 > /dev/null 2>&1 < /dev/null & echo $! > "$OUT/detached")")
            .with_env("OUT", out.str())
            .with_env("SANDBOX_MARK", out.str())
            .shares(out.str()),
        // Leaves files in its folder; the next one reports what it sees.
        e2e::CommandKind("litter", R"(echo junk > litter; echo junk > outbound/artifact; mkdir -p inbound/x; )"
                                   R"(chmod 000 inbound/x; true)"),
        e2e::CommandKind("inspect", R"(find . -mindepth 1 | sort > "$OUT/seen"; pwd > "$OUT/pwd"; )"
                                    R"(stat -c %a . > "$OUT/mode"; id -u > "$OUT/uid")")
            .with_env("OUT", out.str())
            .shares(out.str()),
        // Reports its limits and network interfaces.
        [&] {
            e2e::CommandKind k("limited", R"(ulimit -n > "$OUT/nofile"; ulimit -t > "$OUT/cpu"; ulimit -v > "$OUT/as"; )"
                                          R"(ulimit -p > "$OUT/nproc"; tail -n +3 /proc/net/dev | cut -d: -f1 > "$OUT/net")");
            k.with_env("OUT", out.str()).shares(out.str());
            k.extra_json = R"("network": false, "limits": {"memory_mb": 256, "cpu_s": 7, "processes": 200, "open_files": 64})";
            return k;
        }(),
        // Runs long: for the SIGKILL of its worker.
        e2e::CommandKind("long", R"(sleep 1000 & wait)")
            .with_env("SANDBOX_MARK", out.str())
            .attempts(5),
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
    void require_succeeded(const std::string& id) {
        auto body = stack.wait_finished(id, 30s);
        BOOST_REQUIRE_MESSAGE(test::json_field(body, "status") == "succeeded", body << "\n" << stack.output());
    }
    fs::path jobs_root() { return stack.dir() / "state" / "jobs"; }
    // The `sleep` processes of this suite's jobs (the sandbox's own bwrap
    // processes carry the job's environment too).
    std::size_t sleeps() {
        std::size_t n = 0;
        for (long pid : e2e::processes_with_env(mark)) {
            if (trimmed(e2e::read_file("/proc/" + std::to_string(pid) + "/comm")) == "sleep") ++n;
        }
        return n;
    }
    // The host folder of a running job's attempt, found under the state folder.
    fs::path folder_of(const std::string& id) {
        fs::path found;
        e2e::poll_until(
            [&] {
                std::error_code ec;
                for (fs::recursive_directory_iterator it(jobs_root(), ec), end; !ec && it != end; it.increment(ec)) {
                    if (it.depth() == 1 && it->path().filename() == id + "-1" &&
                        fs::exists(it->path() / "args.json")) {
                        found = it->path();
                    }
                    if (it.depth() >= 1) it.disable_recursion_pending();
                }
                return !found.empty();
            },
            10s, 20ms);
        return found;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(sandbox_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(a_job_cannot_read_a_running_siblings_arguments) {
    stack.start_api();
    stack.start_worker({{"DROVER_CONCURRENCY", "2"}});
    auto holder = submit(R"({"kind": "holder", "args": {"secret": "s3cr3t"}})");
    auto sibling = folder_of(holder);
    BOOST_REQUIRE_MESSAGE(!sibling.empty(), "no folder for job " << holder << "\n" << stack.output());
    BOOST_REQUIRE(fs::exists(sibling / "args.json"));
    // Another worker's jobs are strangers too: the folder is 0700, its parents closed.
    BOOST_TEST(((fs::status(sibling).permissions() & fs::perms::all) == fs::perms::owner_all));

    // Its real path on the host, handed to the peeking job.
    std::ofstream(out.file("sibling-path")) << sibling.string();
    auto peek = submit(R"({"kind": "peek", "args": {}})");
    require_succeeded(peek);
    std::ofstream(out.file("release")).put('\n');
    require_succeeded(holder);
    for (const char* f : {"peek-direct", "peek-parent", "peek-find", "peek-grep"}) {
        BOOST_TEST(e2e::read_file(out.path() / f).find("s3cr3t") == std::string::npos, f);
    }
    // What it could find is its own arguments only.
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "peek-find")) == "/job/args.json");
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "peek-grep")) == "");
}

BOOST_AUTO_TEST_CASE(a_job_cannot_write_outside_its_folder) {
    stack.start_api();
    stack.start_worker();
    auto id = submit(R"({"kind": "escape", "args": {}})");
    require_succeeded(id);
    BOOST_TEST(!fs::exists(outside.path() / "pwned"));
    BOOST_TEST(!fs::exists("/pwned"));
    // Nothing next to the job folders either.
    std::error_code ec;
    for (fs::recursive_directory_iterator it(jobs_root(), ec), end; !ec && it != end; it.increment(ec)) {
        BOOST_TEST(it->path().filename() != "pwned", it->path());
    }
}

BOOST_AUTO_TEST_CASE(the_environment_holds_no_database_url_and_each_variable_once) {
    stack.start_api();
    stack.start_worker({{"DROVER_SECRET_SETTING", "hidden"}});
    auto id = submit(R"({"kind": "show_env", "args": {"a": 1}})");
    require_succeeded(id);
    auto lines = e2e::read_lines(out.path() / ("env-" + id));
    BOOST_REQUIRE(!lines.empty());
    std::map<std::string, int> seen;
    std::map<std::string, std::string> value;
    for (const auto& l : lines) {
        auto eq = l.find('=');
        if (eq == std::string::npos) continue;
        ++seen[l.substr(0, eq)];
        value[l.substr(0, eq)] = l.substr(eq + 1);
    }
    BOOST_TEST(seen.count("DROVER_DATABASE_URL") == 0u);
    BOOST_TEST(seen.count("DROVER_SECRET_SETTING") == 0u);
    BOOST_TEST(seen.count("DROVER_KINDS_FILE") == 0u);
    for (const auto& [name, n] : seen) BOOST_TEST(n == 1, name << " appears " << n << " times");
    BOOST_TEST(value["HOME"] == "/custom-home");
    BOOST_TEST(value["DROVER_JOB_ID"] == id);
    BOOST_TEST(value["DROVER_ARGS"].find(R"("a")") != std::string::npos, value["DROVER_ARGS"]);
    for (const auto& l : lines) BOOST_TEST(l.find("postgres") == std::string::npos, l);
}

BOOST_AUTO_TEST_CASE(a_detached_process_is_gone_when_the_attempt_ends) {
    stack.start_api();
    stack.start_worker();
    auto id = submit(R"({"kind": "detach", "args": {}})");
    require_succeeded(id);
    BOOST_REQUIRE(!trimmed(e2e::read_file(out.path() / "detached")).empty());
    BOOST_TEST(e2e::poll_until([&] { return e2e::processes_with_env(mark).empty(); }, 3s, 20ms),
               "processes of the job still running: " << e2e::processes_with_env(mark).size());
}

BOOST_AUTO_TEST_CASE(the_next_job_sees_nothing_of_the_previous_one) {
    stack.start_api();
    stack.start_worker({{"DROVER_CONCURRENCY", "1"}});
    auto first = submit(R"({"kind": "litter", "args": {}})");
    require_succeeded(first);
    auto second = submit(R"({"kind": "inspect", "args": {}})");
    require_succeeded(second);
    BOOST_TEST(e2e::read_lines(out.path() / "seen") ==
                   (std::vector<std::string>{"./args.json", "./inbound", "./outbound"}),
               e2e::read_file(out.path() / "seen"));
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "pwd")) == "/job");
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "mode")) == "700");
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "uid")) != "0");
    // Both attempts' folders are gone from the host.
    std::size_t left = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(jobs_root(), ec), end; !ec && it != end; it.increment(ec)) {
        if (it.depth() == 1) ++left;
    }
    BOOST_TEST(left == 0u);
}

BOOST_AUTO_TEST_CASE(sigkill_of_the_worker_ends_its_jobs_processes_and_no_second_copy_runs_beside_one) {
    stack.start_api();
    std::map<std::string, std::string> env = {{"DROVER_LEASE_S", "3"}, {"DROVER_RESCUE_INTERVAL_MS", "300"}};
    auto& first = *stack.workers()[stack.start_worker(env)];
    auto id = submit(R"({"kind": "long", "args": {}})");
    BOOST_REQUIRE_MESSAGE(e2e::poll_until([&] { return sleeps() == 1; }, 10s, 20ms), stack.output());
    std::set<fs::path> folders_before;
    for (const auto& e : fs::directory_iterator(jobs_root())) folders_before.insert(e.path());
    BOOST_REQUIRE(!folders_before.empty());

    first.signal(SIGKILL);
    BOOST_REQUIRE(first.wait_exit(5s).has_value());
    // The kernel ends them: nothing in the worker ran.
    BOOST_TEST(e2e::poll_until([&] { return e2e::processes_with_env(mark).empty(); }, 3s, 20ms),
               "still running: " << e2e::processes_with_env(mark).size());

    // A second worker rescues the job and runs it again; never two copies at once.
    stack.start_worker(env);
    // The dead worker's folders go when it starts.
    for (const auto& f : folders_before) {
        BOOST_TEST(e2e::poll_until([&] { return !fs::exists(f); }, 5s, 20ms), f);
    }
    std::size_t most = 0;
    bool again = e2e::poll_until(
        [&] {
            most = std::max(most, sleeps());
            return e2e::text_value(conn, "SELECT attempt::text FROM drover.jobs WHERE id = " + id +
                                             " AND status = 'running'") == "2" &&
                   sleeps() == 1;
        },
        30s, 20ms);
    BOOST_REQUIRE_MESSAGE(again, "never ran again\n" << stack.output());
    for (int i = 0; i < 10; ++i) {
        most = std::max(most, sleeps());
        std::this_thread::sleep_for(50ms);
    }
    BOOST_TEST(most == 1u);
    auto cancelled = test::http_request(stack.port(), "POST", "/v1/jobs/" + id + "/cancel");
    BOOST_TEST(cancelled.status == 200, cancelled.body);
    BOOST_TEST(e2e::poll_until([&] { return status(id) == "cancelled"; }, 10s), stack.output());
    BOOST_TEST(e2e::poll_until([&] { return e2e::processes_with_env(mark).empty(); }, 8s, 20ms));
}

BOOST_AUTO_TEST_CASE(a_kinds_limits_and_network_hold_inside_the_sandbox) {
    stack.start_api();
    stack.start_worker();
    auto id = submit(R"({"kind": "limited", "args": {}})");
    require_succeeded(id);
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "nofile")) == "64");
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "cpu")) == "7");
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "as")) == std::to_string(256 * 1024));
    BOOST_TEST(trimmed(e2e::read_file(out.path() / "nproc")) == "200");
    auto interfaces = e2e::read_lines(out.path() / "net");
    BOOST_TEST(interfaces.size() == 1u, e2e::read_file(out.path() / "net"));
    if (!interfaces.empty()) BOOST_TEST(trimmed(interfaces[0]).find("lo") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_worker_refuses_to_start_when_a_kinds_sandbox_cannot_be_built) {
    e2e::TempDir dir;
    std::ofstream(dir.file("kinds.json"))
        << R"({"kinds": {"k": {"command": ["/bin/true"], "user": "no-such-user-for-drover"}}})";
    test::Process worker(test::binary_path("drover-worker"), {},
                         {{"DROVER_DATABASE_URL", "postgres://127.0.0.1:1/none"},
                          {"DROVER_KINDS_FILE", dir.file("kinds.json")},
                          {"DROVER_STATE_DIR", dir.str()}});
    auto code = worker.wait_exit(10s);
    BOOST_REQUIRE(code.has_value());
    BOOST_TEST(*code == 2);
    BOOST_TEST(worker.output().find("kind 'k': no user named 'no-such-user-for-drover'") != std::string::npos,
               worker.output());
}

BOOST_AUTO_TEST_SUITE_END()
