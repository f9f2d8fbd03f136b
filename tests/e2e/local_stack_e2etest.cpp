// drover start / status / stop / ensure / up against real processes: a local
// Postgres made by scripts/pg in the test's own state folder, drover-api and
// drover-worker. Every answer must be exactly one JSON line on stdout.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/process.hpp"

extern char** environ;

namespace drover::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Run {
    int status = -1;
    std::string out;
    std::string err;
    rapidjson::Document json;  // the one line on stdout (Null when it is not exactly one JSON line)
};

// A drover command (or drover up) in a process group of its own, so that a
// test can signal the whole group as a terminal's Ctrl-C does.
class DroverCli {
public:
    DroverCli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
        for (char** e = environ; *e; ++e) {
            std::string kv = *e;
            // The test's own DROVER_* settings must not leak into the CLI's.
            if (kv.starts_with("DROVER_") && !kv.starts_with("DROVER_BIN_DIR=")) continue;
            env_strings_.push_back(kv);
        }
        for (const auto& [k, v] : env) env_strings_.push_back(k + "=" + v);
        std::vector<char*> envp;
        for (auto& s : env_strings_) envp.push_back(s.data());
        envp.push_back(nullptr);
        std::vector<std::string> argv_strings = {test::binary_path("drover")};
        argv_strings.insert(argv_strings.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& s : argv_strings) argv.push_back(s.data());
        argv.push_back(nullptr);
        out_path_ = output_.file("stdout");
        err_path_ = output_.file("stderr");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        int rc = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        if (rc != 0) throw std::runtime_error("cannot run drover");
    }
    ~DroverCli() {
        if (!status_) {
            kill(-pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    std::optional<int> wait(std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!status_) {
            int s = 0;
            if (waitpid(pid_, &s, WNOHANG) == pid_) {
                status_ = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
                break;
            }
            if (std::chrono::steady_clock::now() >= deadline) break;
            std::this_thread::sleep_for(20ms);
        }
        return status_;
    }
    std::string out() const { return read_file(out_path_); }
    std::string err() const { return read_file(err_path_); }

private:
    TempDir output_;
    std::vector<std::string> env_strings_;
    std::string out_path_, err_path_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

rapidjson::Document one_json_line(const std::string& out) {
    if (out.empty() || out.back() != '\n' || out.find('\n') != out.size() - 1) {
        rapidjson::Document none;
        return none;
    }
    return parse_json(out);
}

// A state folder of its own; whatever a test leaves running is stopped.
struct LocalStackFixture {
    TempDir state;
    std::map<std::string, std::string> env() const {
        return {{"DROVER_STATE_DIR", state.str()}, {"DROVER_SHUTDOWN_GRACE_S", "2"}, {"DROVER_LOG_LEVEL", "info"}};
    }
    Run drover(const std::vector<std::string>& args, std::map<std::string, std::string> extra = {}) {
        auto e = env();
        for (auto& [k, v] : extra) e[k] = v;
        DroverCli cli(args, e);
        Run r;
        auto status = cli.wait(120s);
        BOOST_REQUIRE_MESSAGE(status, "drover " << args.front() << " did not finish in 120 s");
        r.status = *status;
        r.out = cli.out();
        r.err = cli.err();
        r.json = one_json_line(r.out);
        BOOST_TEST_MESSAGE("drover " << args.front() << " -> " << r.status << "\nstdout: " << r.out
                                     << "stderr: " << r.err);
        BOOST_REQUIRE_MESSAGE(r.json.IsObject(), "drover " << args.front() << " printed not exactly one JSON line: " << r.out);
        return r;
    }
    std::string state_file() const { return state.file("drover.json"); }
    // The postmaster.pid of the Postgres drover starts: in the state folder, or
    // where its `home` file says (scripts/lib/pg.sh puts it elsewhere when the
    // postgres user cannot reach the state folder).
    std::string postmaster_pid() const {
        std::ifstream in(state.file("pg/home"));
        std::string home;
        if (!std::getline(in, home) || home.empty()) home = state.file("pg");
        return home + "/data/postmaster.pid";
    }
    ~LocalStackFixture() {
        DroverCli stop({"stop"}, env());
        stop.wait(60s);
        // Belt and braces: a cluster left behind by a failed test.
        if (fs::exists(postmaster_pid())) {
            test::Process pg("/bin/sh", {"-c", std::string(DROVER_SOURCE_DIR) + "/scripts/pg stop " + state.file("pg")});
            pg.wait_exit(60s);
        }
    }
};

long member_int(const rapidjson::Value& v, const char* name) {
    return v.IsObject() && v.HasMember(name) && v[name].IsInt64() ? static_cast<long>(v[name].GetInt64()) : 0;
}

std::string member_str(const rapidjson::Value& v, const char* name) {
    return v.IsObject() && v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

std::vector<long> all_pids(const rapidjson::Value& answer) {
    std::vector<long> pids;
    if (!answer.IsObject() || !answer.HasMember("pids")) return pids;
    const auto& p = answer["pids"];
    for (const char* name : {"api", "postgres", "up"}) {
        if (long pid = member_int(p, name)) pids.push_back(pid);
    }
    if (p.HasMember("workers") && p["workers"].IsArray()) {
        for (const auto& w : p["workers"].GetArray()) pids.push_back(w.GetInt64());
    }
    return pids;
}

bool contains(const rapidjson::Value& array_holder, const char* name, const std::string& value) {
    if (!array_holder.IsObject() || !array_holder.HasMember(name) || !array_holder[name].IsArray()) return false;
    for (const auto& v : array_holder[name].GetArray()) {
        if (v.IsString() && std::string(v.GetString()).find(value) != std::string::npos) return true;
    }
    return false;
}

// Processes whose environment names this state folder (drover-api and
// drover-worker get DROVER_STATE_DIR=<it>); zombies do not count.
std::vector<long> processes_of(const std::string& state_dir) {
    std::vector<long> found;
    std::string needle = "DROVER_STATE_DIR=" + state_dir;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string env = read_file(entry.path() / "environ");
        std::replace(env.begin(), env.end(), '\0', '\n');
        if ((env + "\n").find(needle + "\n") != std::string::npos && !process_gone(std::stol(name))) {
            found.push_back(std::stol(name));
        }
    }
    return found;
}

int port_of(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

// A state file naming `pid` with the given start time, as drover start writes it.
void write_state_file(const std::string& path, long pid, unsigned long long start_time) {
    std::ofstream(path) << R"({"version":1,"mode":"start","owner":null,"state_dir":"","url":"http://127.0.0.1:1",)"
                        << R"("admin_url":"","database_url":"","api_key_file":"","admin_key_file":"","env_file":"",)"
                        << R"("postgres_dir":"","port":1,"admin_port":2,"postgres":null,"processes":[)"
                        << R"({"name":"drover-api","pid":)" << pid << R"(,"start_time":)" << start_time
                        << R"(,"log":""}]})";
}

unsigned long long start_time_of(long pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22; ++i) rest >> field;
    return std::stoull(field);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(local_stack_e2etest, LocalStackFixture)

BOOST_AUTO_TEST_CASE(start_status_stop_then_a_second_stop_fails_clearly) {
    auto started = drover({"start"});
    BOOST_REQUIRE_EQUAL(started.status, 0);
    BOOST_TEST(started.json["ok"].GetBool());
    std::string url = member_str(started.json, "url");
    BOOST_TEST(url.starts_with("http://127.0.0.1:"));
    BOOST_TEST(member_str(started.json, "admin_url").starts_with("http://127.0.0.1:"));
    auto pids = all_pids(started.json);
    BOOST_TEST(pids.size() == 3u);  // api, postgres, one worker
    // Where the later tests look for a Postgres left running.
    BOOST_TEST(fs::exists(postmaster_pid()), postmaster_pid() << " does not exist while Postgres runs");

    struct stat st {};
    BOOST_REQUIRE(::stat(state_file().c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(test::http_request_as("", port_of(url), "GET", "/readyz").status == 200);

    auto status = drover({"status"});
    BOOST_TEST(status.status == 0);
    BOOST_TEST(status.json["running"].GetBool());
    BOOST_REQUIRE(status.json.HasMember("status"));
    BOOST_TEST(status.json["status"]["database"]["reachable"].GetBool());

    auto stopped = drover({"stop"});
    BOOST_TEST(stopped.status == 0);
    BOOST_TEST(stopped.json["ok"].GetBool());
    BOOST_TEST(!stopped.json["forced"].GetBool());
    for (long pid : pids) BOOST_TEST(process_gone(pid), "pid " << pid << " still runs after stop");
    BOOST_TEST(!fs::exists(state_file()));

    auto again = drover({"stop"});
    BOOST_TEST(again.status == 3);
    BOOST_TEST(!again.json["ok"].GetBool());
    BOOST_TEST(member_str(again.json, "error").find("not running") != std::string::npos);
    auto status_after = drover({"status"});
    BOOST_TEST(status_after.status == 3);
    BOOST_TEST(!status_after.json["running"].GetBool());
}

BOOST_AUTO_TEST_CASE(a_state_file_naming_dead_pids_is_reported_stale_and_removed) {
    pid_t child = fork();
    if (child == 0) _exit(0);
    auto start_time = start_time_of(child);  // readable until it is reaped
    waitpid(child, nullptr, 0);
    write_state_file(state_file(), child, start_time);

    auto status = drover({"status"});
    BOOST_TEST(status.status == 3);
    BOOST_TEST(status.json["stale"].GetBool());
    BOOST_TEST(contains(status.json, "dead", "gone"));
    BOOST_TEST(!fs::exists(state_file()));
}

BOOST_AUTO_TEST_CASE(a_pid_reused_by_another_program_is_never_signalled) {
    test::Process other("/bin/sleep", {"30"});
    std::this_thread::sleep_for(50ms);
    // Same pid, another start time: the recorded process is gone and its pid
    // now belongs to someone else.
    write_state_file(state_file(), other.pid(), start_time_of(other.pid()) + 1);

    auto status = drover({"status"});
    BOOST_TEST(status.status == 3);
    BOOST_TEST(contains(status.json, "dead", "reused"));
    BOOST_TEST(!fs::exists(state_file()));

    write_state_file(state_file(), other.pid(), start_time_of(other.pid()) + 1);
    auto stopped = drover({"stop"});
    BOOST_TEST(stopped.status == 0);
    BOOST_TEST(contains(stopped.json, "already_gone", "reused"));
    BOOST_TEST(stopped.json["stopped"].Size() == 0u);
    std::this_thread::sleep_for(100ms);
    BOOST_TEST(other.running(), "stop signalled a process it did not start");
    BOOST_TEST(!fs::exists(state_file()));
}

BOOST_AUTO_TEST_CASE(a_process_that_ignores_sigterm_is_killed_after_the_grace_and_stop_says_it_forced) {
    test::Process stubborn("/bin/sh", {"-c", "trap '' TERM; while :; do sleep 0.1; done"});
    std::this_thread::sleep_for(100ms);
    write_state_file(state_file(), stubborn.pid(), start_time_of(stubborn.pid()));

    auto began = std::chrono::steady_clock::now();
    auto stopped = drover({"stop"}, {{"DROVER_SHUTDOWN_GRACE_S", "0"}});
    auto took = std::chrono::steady_clock::now() - began;
    BOOST_TEST(stopped.status == 0);
    BOOST_TEST(stopped.json["forced"].GetBool());
    BOOST_TEST(contains(stopped.json, "killed", "pid " + std::to_string(stubborn.pid())));
    BOOST_TEST(took >= 5s, "stop did not wait the grace (0 s) plus 5 s before SIGKILL");
    auto exit = stubborn.wait_exit(5s);
    BOOST_TEST((exit && *exit == 128 + SIGKILL));
    BOOST_TEST(!fs::exists(state_file()));
}

BOOST_AUTO_TEST_CASE(a_child_that_dies_at_start_fails_start_with_its_log_and_leaves_nothing_running) {
    // Only the worker reads DROVER_CONCURRENCY: the API starts, the worker refuses.
    auto started = drover({"start"}, {{"DROVER_CONCURRENCY", "lots"}});
    BOOST_TEST(started.status == 1);
    BOOST_TEST(!started.json["ok"].GetBool());
    BOOST_TEST(member_str(started.json, "error").find("drover-worker exited") != std::string::npos);
    BOOST_TEST(member_str(started.json, "log_tail").find("DROVER_CONCURRENCY") != std::string::npos);
    BOOST_TEST(!fs::exists(state_file()));
    BOOST_TEST(processes_of(state.str()).empty(), "drover processes of this state folder still run");
    BOOST_TEST(!fs::exists(postmaster_pid()), "the Postgres it started still runs");
}

BOOST_AUTO_TEST_CASE(ensure_twice_starts_nothing_the_second_time_and_restarts_what_died) {
    auto first = drover({"ensure"});
    BOOST_REQUIRE_EQUAL(first.status, 0);
    BOOST_TEST(first.json["started"].Size() == 3u);

    auto second = drover({"ensure"});
    BOOST_TEST(second.status == 0);
    BOOST_TEST(second.json["started"].Size() == 0u);
    BOOST_TEST(second.json["already_running"].Size() == 3u);
    BOOST_TEST(member_str(second.json, "url") == member_str(first.json, "url"));

    long worker = second.json["pids"]["workers"][0].GetInt64();
    kill(static_cast<pid_t>(worker), SIGKILL);
    BOOST_REQUIRE(poll_until([&] { return process_gone(worker); }, 5s));
    auto third = drover({"ensure", "--worker"});
    BOOST_TEST(third.status == 0);
    BOOST_TEST(contains(third.json, "started", "drover-worker"));
    BOOST_TEST(third.json["started"].Size() == 1u);
    BOOST_TEST(third.json["pids"]["workers"][0].GetInt64() != worker);

    BOOST_TEST(drover({"stop"}).status == 0);
    BOOST_TEST(processes_of(state.str()).empty());
}

BOOST_AUTO_TEST_CASE(up_from_nothing_runs_everything_and_ctrl_c_stops_it_with_130) {
    DroverCli up({"up"}, env());
    BOOST_REQUIRE_MESSAGE(poll_until([&] { return up.out().find('\n') != std::string::npos || up.wait(0ms); }, 90s),
                          "drover up printed nothing; stderr: " << up.err());
    auto answer = one_json_line(up.out());
    BOOST_REQUIRE_MESSAGE(answer.IsObject() && answer["ok"].GetBool(), up.out() << up.err());
    auto pids = all_pids(answer);
    BOOST_TEST(pids.size() == 4u);  // api, worker, postgres, drover up itself
    std::string url = member_str(answer, "url");
    BOOST_TEST(test::http_request_as("", port_of(url), "GET", "/readyz").status == 200);
    // The default app's key works against it.
    std::string key = read_lines(member_str(answer, "api_key_file")).at(0);
    BOOST_TEST(test::http_request_as(key, port_of(url), "POST", "/v1/jobs", R"({"kind":"noop"})").status == 202);
    auto status = drover({"status"});
    BOOST_TEST(status.status == 0);

    // What a terminal does on Ctrl-C: SIGINT to the foreground process group.
    BOOST_REQUIRE(kill(-up.pid(), SIGINT) == 0);
    auto exit = up.wait(30s);
    BOOST_REQUIRE_MESSAGE(exit, "drover up did not stop on SIGINT; stderr: " << up.err());
    BOOST_TEST(*exit == 130);
    for (long pid : pids) BOOST_TEST(process_gone(pid), "pid " << pid << " still runs after Ctrl-C");
    BOOST_TEST(!fs::exists(state_file()));
    BOOST_TEST(up.out().find('\n') == up.out().size() - 1, "drover up printed more than one line: " << up.out());
}

BOOST_AUTO_TEST_CASE(up_killed_outright_takes_its_api_and_worker_with_it) {
    DroverCli up({"up"}, env());
    BOOST_REQUIRE_MESSAGE(poll_until([&] { return up.out().find('\n') != std::string::npos || up.wait(0ms); }, 90s),
                          "drover up printed nothing; stderr: " << up.err());
    auto answer = one_json_line(up.out());
    BOOST_REQUIRE_MESSAGE(answer.IsObject() && answer["ok"].GetBool(), up.out() << up.err());
    long api = member_int(answer["pids"], "api");
    long worker = answer["pids"]["workers"][0].GetInt64();
    BOOST_REQUIRE(kill(up.pid(), SIGKILL) == 0);
    up.wait(10s);
    BOOST_TEST(poll_until([&] { return process_gone(api) && process_gone(worker); }, 20s),
               "drover-api or drover-worker outlived drover up");
    // What is left (the Postgres it started, the state file) drover stop cleans up.
    auto stopped = drover({"stop"});
    BOOST_TEST(stopped.status == 0);
    BOOST_TEST(!fs::exists(state_file()));
    BOOST_TEST(!fs::exists(postmaster_pid()));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
