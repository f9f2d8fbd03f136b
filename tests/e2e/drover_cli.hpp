#pragma once
// Running the drover command in e2e tests: a child with its own stdout and
// stderr files, the caller's DROVER_* settings removed (but DROVER_BIN_DIR)
// and `env` set; and a local Drover brought up by `drover start` in a
// temporary state folder, stopped at the end.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/process.hpp"

extern char** environ;

namespace drover::e2e {

struct Run {
    int status = -1;
    std::string out;
    std::string err;
};

inline Run run_drover(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                      const std::string& cwd = {}) {
    TempDir files;
    std::string out = files.file("out"), err = files.file("err");
    std::fflush(nullptr);  // else the child's freopen writes the parent's buffered output a second time
    pid_t pid = fork();
    if (pid == 0) {
        for (char** e = environ; *e;) {
            std::string kv = *e;
            if (kv.starts_with("DROVER_") && !kv.starts_with("DROVER_BIN_DIR=")) {
                unsetenv(kv.substr(0, kv.find('=')).c_str());  // shifts environ: look at the same slot again
            } else {
                ++e;
            }
        }
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(125);
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
    BOOST_TEST_MESSAGE("drover " << (args.empty() ? "" : args.front()) << " -> " << r.status << "\nstdout: " << r.out
                                 << "stderr: " << r.err);
    return r;
}

// Every line of `text` is a JSON object, and there is at least one.
inline bool every_line_is_json(const std::string& text) {
    std::istringstream in(text);
    int lines = 0;
    for (std::string line; std::getline(in, line); ++lines) {
        if (!parse_json(line).IsObject()) return false;
    }
    return lines > 0;
}

inline std::string last_line(const std::string& text) {
    std::istringstream in(text);
    std::string last;
    for (std::string line; std::getline(in, line);) last = line;
    return last;
}

inline std::string job_id(const std::string& json_line) {
    auto doc = parse_json(json_line);
    return doc.IsObject() && doc.HasMember("id") && doc["id"].IsString() ? doc["id"].GetString() : "";
}

// drover start with these kinds (and extra settings), drover stop at the end.
struct LocalDroverWith {
    TempDir state;
    TempDir kinds_dir;
    std::map<std::string, std::string> env;
    LocalDroverWith(const std::vector<CommandKind>& kinds, const std::map<std::string, std::string>& extra = {}) {
        std::string kinds_path = kinds_dir.file("kinds.json");
        std::ofstream(kinds_path) << kinds_file(kinds);
        env = {{"DROVER_STATE_DIR", state.str()}, {"DROVER_SHUTDOWN_GRACE_S", "2"}, {"DROVER_KINDS_FILE", kinds_path}};
        env.insert(extra.begin(), extra.end());
        auto started = run_drover({"start"}, env);
        BOOST_REQUIRE_MESSAGE(started.status == 0, started.out << started.err);
    }
    ~LocalDroverWith() { run_drover({"stop"}, env); }
    Run drover(const std::vector<std::string>& args, const std::string& cwd = {}) { return run_drover(args, env, cwd); }
};

}  // namespace drover::e2e
