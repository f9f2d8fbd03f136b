// drover submit / jobs / show / logs / cancel / retry over HTTP against a
// local Drover that drover start brought up (URL and key from its state
// file), and against DROVER_URL / DROVER_API_KEY.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/process.hpp"

extern char** environ;

namespace drover::e2e {
namespace {

using namespace std::chrono_literals;

struct Run {
    int status = -1;
    std::string out;
    std::string err;
};

// Runs drover with the given arguments; stdout and stderr kept apart.
Run run_drover(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    TempDir files;
    std::string out = files.file("out"), err = files.file("err");
    pid_t pid = fork();
    if (pid == 0) {
        for (char** e = environ; *e; ++e) {
            std::string kv = *e;
            if (kv.starts_with("DROVER_") && !kv.starts_with("DROVER_BIN_DIR=")) unsetenv(kv.substr(0, kv.find('=')).c_str());
        }
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
        std::vector<std::string> argv_strings = {test::binary_path("drover")};
        argv_strings.insert(argv_strings.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& s : argv_strings) argv.push_back(s.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    Run r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out);
    r.err = read_file(err);
    BOOST_TEST_MESSAGE("drover " << args.front() << " -> " << r.status << "\nstdout: " << r.out << "stderr: " << r.err);
    return r;
}

bool every_line_is_json(const std::string& text) {
    std::istringstream in(text);
    int lines = 0;
    for (std::string line; std::getline(in, line); ++lines) {
        if (!parse_json(line).IsObject()) return false;
    }
    return lines > 0;
}

struct LocalDrover {
    TempDir state;
    TempDir kinds_dir;
    std::map<std::string, std::string> env;
    LocalDrover() {
        std::string kinds = kinds_dir.file("kinds.json");
        std::ofstream(kinds) << kinds_file({CommandKind("chatty", "echo first line; echo to stderr >&2; echo last line"),
                                            CommandKind("broken", "echo about to fail; exit 3").attempts(1).permanent({3}),
                                            CommandKind("slow", "sleep 30")});
        env = {{"DROVER_STATE_DIR", state.str()}, {"DROVER_SHUTDOWN_GRACE_S", "2"}, {"DROVER_KINDS_FILE", kinds}};
        auto started = run_drover({"start"}, env);
        BOOST_REQUIRE_MESSAGE(started.status == 0, started.out << started.err);
    }
    ~LocalDrover() { run_drover({"stop"}, env); }
    Run drover(const std::vector<std::string>& args) { return run_drover(args, env); }
};

std::string job_id(const std::string& json_line) {
    auto doc = parse_json(json_line);
    return doc.IsObject() && doc.HasMember("id") && doc["id"].IsString() ? doc["id"].GetString() : "";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(client_commands_e2etest, LocalDrover)

BOOST_AUTO_TEST_CASE(submit_wait_prints_the_log_and_exits_with_the_outcome) {
    auto ok = drover({"submit", "chatty", "--wait"});
    BOOST_TEST(ok.status == 0);
    BOOST_TEST(ok.out.find("first line\n") != std::string::npos);
    BOOST_TEST(ok.out.find("last line\n") != std::string::npos);
    BOOST_TEST(ok.err.find("to stderr") != std::string::npos);
    BOOST_TEST(ok.out.find("succeeded") != std::string::npos);

    auto failed = drover({"submit", "broken", "--wait"});
    BOOST_TEST(failed.status == 1);
    BOOST_TEST(failed.out.find("about to fail") != std::string::npos);

    auto json = drover({"submit", "noop", "--wait", "--json"});
    BOOST_TEST(json.status == 0);
    BOOST_TEST(every_line_is_json(json.out), json.out);
    BOOST_TEST(json.out.find("\"succeeded\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_cancelled_job_makes_submit_wait_exit_4) {
    auto submitted = drover({"submit", "slow", "--json"});
    BOOST_REQUIRE(submitted.status == 0);
    BOOST_TEST(every_line_is_json(submitted.out));
    std::string id = job_id(submitted.out);
    BOOST_REQUIRE(!id.empty());
    auto cancelled = drover({"cancel", id, "--json"});
    BOOST_TEST(cancelled.status == 0);
    BOOST_TEST(every_line_is_json(cancelled.out));
    // --wait on a job that ends cancelled: follow it with logs --follow's machinery.
    auto waited = drover({"logs", id, "--follow"});
    BOOST_TEST(waited.status == 0);
    auto shown = drover({"show", id, "--json"});
    BOOST_TEST(shown.out.find("\"cancelled\"") != std::string::npos);
    // And through submit --wait: cancel from another process while it waits.
    pid_t canceller = fork();
    if (canceller == 0) {
        // Until the waiting submit's job exists (a loaded machine may take a while).
        for (int tries = 0; tries < 40; ++tries) {
            std::this_thread::sleep_for(500ms);
            auto list = run_drover({"jobs", "--status", "running,pending", "--kind", "slow", "--json"}, env);
            auto doc = parse_json(list.out);
            if (!doc.IsObject() || !doc["jobs"].IsArray() || doc["jobs"].Empty()) continue;
            for (const auto& j : doc["jobs"].GetArray()) run_drover({"cancel", j["id"].GetString()}, env);
            break;
        }
        _exit(0);
    }
    auto wait_cancelled = drover({"submit", "slow", "--wait"});
    waitpid(canceller, nullptr, 0);
    BOOST_TEST(wait_cancelled.status == 4);
}

BOOST_AUTO_TEST_CASE(jobs_show_logs_retry_and_errors) {
    auto failed = drover({"submit", "broken", "--wait", "--json"});
    BOOST_REQUIRE(failed.status == 1);
    std::istringstream lines(failed.out);
    std::string last;
    for (std::string line; std::getline(lines, line);) last = line;
    std::string id = job_id(last);
    BOOST_REQUIRE(!id.empty());

    auto listed = drover({"jobs", "--json"});
    BOOST_TEST(listed.status == 0);
    BOOST_TEST(every_line_is_json(listed.out));
    BOOST_TEST(listed.out.find("\"id\":\"" + id + "\"") != std::string::npos);
    auto human = drover({"jobs", "--status", "failed"});
    BOOST_TEST(human.out.find(id + "\tfailed\tbroken") != std::string::npos);

    auto logs = drover({"logs", id});
    BOOST_TEST(logs.status == 0);
    BOOST_TEST(logs.out.find("about to fail") != std::string::npos);

    auto retried = drover({"retry", id, "--json"});
    BOOST_TEST(retried.status == 0);
    BOOST_TEST(retried.out.find("\"pending\"") != std::string::npos);

    auto missing = drover({"show", "999999"});
    BOOST_TEST(missing.status == 2);
    BOOST_TEST(missing.err.find("404") != std::string::npos);
    auto bad_args = drover({"submit", "noop", "--args", "{not json"});
    BOOST_TEST(bad_args.status == 2);

    // DROVER_URL / DROVER_API_KEY win over the state file: a wrong key is refused.
    auto env_wrong = env;
    env_wrong["DROVER_API_KEY"] = "drv_0000000000000000_" + std::string(64, '0');
    auto refused = run_drover({"jobs"}, env_wrong);
    BOOST_TEST(refused.status == 2);
    BOOST_TEST(refused.err.find("401") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
