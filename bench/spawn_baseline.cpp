// drover-bench-spawn: the floor that command_spawn is compared with.
//
// Starts COUNT processes of PROGRAM (no arguments) with posix_spawn, keeping
// CONCURRENCY of them running at once: spawn CONCURRENCY, then each time
// waitpid() reaps one, spawn the next, until COUNT have been reaped. One
// thread, the parent's environment, no pipes, no working folder, no database:
// the least a job runner must do to run a command COUNT times.
//
// With --sandbox, each spawn starts PROGRAM inside the sandbox the worker
// puts command jobs in (worker/executors/sandbox.hpp: the same bwrap
// arguments, and setpriv to the job user when run as root), but with an
// empty in-memory /job instead of a folder on disk: the floor for Drover's
// sandboxed jobs, and, against the bare spawn, the sandbox's own cost.
//
// Usage: drover-bench-spawn COUNT [CONCURRENCY=8] [PROGRAM=/bin/true] [--sandbox]
// Prints one JSON object on stdout: jobs, elapsed time from the first spawn to
// the last reap, jobs/s, and CPU seconds of this process and of its reaped
// children (user + system). Exits 1 if a spawn fails or a child does not exit 0.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/kinds.hpp"
#include "worker/executors/sandbox.hpp"

extern char** environ;

namespace {

double cpu_seconds(int who) {
    rusage u{};
    getrusage(who, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    bool sandboxed = argc > 1 && std::string(argv[argc - 1]) == "--sandbox";
    if (sandboxed) --argc;
    if (argc < 2 || argc > 4) {
        std::fprintf(stderr, "usage: %s COUNT [CONCURRENCY=8] [PROGRAM=/bin/true] [--sandbox]\n", argv[0]);
        return 2;
    }
    const long count = std::atol(argv[1]);
    const long concurrency = argc > 2 ? std::atol(argv[2]) : 8;
    char* program = const_cast<char*>(argc > 3 ? argv[3] : "/bin/true");
    if (count < 1 || concurrency < 1) {
        std::fprintf(stderr, "COUNT and CONCURRENCY must be positive integers\n");
        return 2;
    }
    std::vector<std::string> argv_s = {program};
    std::string path = program;
    if (sandboxed) {
        try {
            auto kinds = drover::KindRegistry::parse(std::string(R"({"kinds": {"bench": {"command": [")") + program +
                                                     R"("]}}})");
            auto sandbox = drover::worker::Sandbox::create(
                kinds, std::filesystem::temp_directory_path() / "drover-bench-spawn-jobs");
            argv_s = sandbox.probe_argv(program, sandbox.user_of(*kinds.find("bench")));
            path = sandbox.bwrap_path();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "drover-bench-spawn: %s\n", e.what());
            return 1;
        }
    }
    std::vector<char*> child_argv;
    for (auto& a : argv_s) child_argv.push_back(a.data());
    child_argv.push_back(nullptr);

    long started = 0, reaped = 0, failed = 0;
    auto spawn_one = [&] {
        pid_t pid = 0;
        int error = posix_spawn(&pid, path.c_str(), nullptr, nullptr, child_argv.data(), environ);
        if (error != 0) {
            std::fprintf(stderr, "drover-bench-spawn: posix_spawn %s: %s\n", program, std::strerror(error));
            std::exit(1);
        }
        ++started;
    };

    const auto t0 = std::chrono::steady_clock::now();
    while (started < count && started < concurrency) spawn_one();
    while (reaped < count) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            std::fprintf(stderr, "drover-bench-spawn: waitpid: %s\n", std::strerror(errno));
            return 1;
        }
        ++reaped;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
        if (started < count) spawn_one();
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (failed) {
        std::fprintf(stderr, "drover-bench-spawn: %ld of %ld children did not exit 0\n", failed, count);
        return 1;
    }
    std::printf("{\"sandboxed\":%s,\"jobs\":%ld,\"concurrency\":%ld,\"elapsed_s\":%.3f,\"jobs_per_s\":%.1f,\"cpu_s\":%.3f,"
                "\"children_cpu_s\":%.3f}\n",
                sandboxed ? "true" : "false", count, concurrency, elapsed, static_cast<double>(count) / elapsed, cpu_seconds(RUSAGE_SELF),
                cpu_seconds(RUSAGE_CHILDREN));
    return 0;
}
