// drover-bench-spawn: the floor that command_spawn is compared with.
//
// Starts COUNT processes of PROGRAM (no arguments) with posix_spawn, keeping
// CONCURRENCY of them running at once: spawn CONCURRENCY, then each time
// waitpid() reaps one, spawn the next, until COUNT have been reaped. One
// thread, the parent's environment, no pipes, no working folder, no database:
// the least a job runner must do to run a command COUNT times.
//
// With --sandbox, each spawn starts PROGRAM inside the very sandbox the
// worker puts a command job in (Sandbox::child and spawn_child: the same
// bwrap arguments, limits, PID namespace of its own and setpriv to the job
// user when run as root), with one folder made once and bound as /job every
// time (no folder per job, no pipes, no database): the floor for Drover's
// sandboxed jobs, and, against the bare spawn, the sandbox's own cost.
//
// With --folder, each spawn gets a folder of its own, as a command job's
// (docs/kinds.md: a fresh 0700 folder holding args.json and the empty
// folders inbound/ and outbound/), made before the spawn, its current
// directory, and removed after the reap, with plain system calls (mkdir,
// open+write, then unlink and rmdir: nothing to walk). CONCURRENCY threads
// each run that loop on one process at a time, so that one folder's removal
// (which waits for the disk, see bench/README.md) does not hold up the
// others: the floor for an unsandboxed job with its own folder.
//
// Usage: drover-bench-spawn COUNT [CONCURRENCY=8] [PROGRAM=/bin/true] [--sandbox | --folder]
// Prints one JSON object on stdout: jobs, elapsed time from the first spawn to
// the last reap, jobs/s, and CPU seconds of this process and of its reaped
// children (user + system). Exits 1 if a spawn fails or a child does not exit 0.
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/kinds.hpp"
#include "worker/executors/child_process.hpp"
#include "worker/executors/sandbox.hpp"

extern char** environ;

namespace {

double cpu_seconds(int who) {
    rusage u{};
    getrusage(who, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// --folder: CONCURRENCY threads, each makes a folder, spawns PROGRAM in it,
// reaps it and removes the folder, until COUNT processes have run.
int run_with_folders(long count, long concurrency, char* program) {
    char tmpl[] = "/tmp/drover-bench-spawn-XXXXXX";
    if (!mkdtemp(tmpl)) {
        std::perror("drover-bench-spawn: mkdtemp");
        return 1;
    }
    const std::string root = tmpl;
    std::atomic<long> next{0}, failed{0};
    auto slot = [&] {
        char* child_argv[] = {program, nullptr};
        for (long i; (i = next.fetch_add(1)) < count;) {
            const std::string dir = root + "/" + std::to_string(i) + "-1";
            const std::string args = dir + "/args.json", in = dir + "/inbound", out = dir + "/outbound";
            bool ok = mkdir(dir.c_str(), 0700) == 0 && mkdir(in.c_str(), 0700) == 0 && mkdir(out.c_str(), 0700) == 0;
            int fd = ok ? open(args.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
            ok = fd >= 0 && write(fd, "{}", 2) == 2;
            if (fd >= 0) close(fd);
            posix_spawn_file_actions_t actions;
            posix_spawn_file_actions_init(&actions);
            posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
            pid_t pid = 0;
            int status = 0;
            ok = ok && posix_spawn(&pid, program, &actions, nullptr, child_argv, environ) == 0;
            posix_spawn_file_actions_destroy(&actions);
            while (ok && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
            ok = unlink(args.c_str()) == 0 && rmdir(in.c_str()) == 0 && rmdir(out.c_str()) == 0 &&
                 rmdir(dir.c_str()) == 0 && ok;
            if (!ok) ++failed;
        }
    };
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (long t = 0; t < concurrency; ++t) threads.emplace_back(slot);
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::filesystem::remove_all(root);
    if (failed) {
        std::fprintf(stderr, "drover-bench-spawn: %ld of %ld spawns failed (folder, spawn or exit status)\n",
                     failed.load(), count);
        return 1;
    }
    std::printf("{\"sandboxed\":false,\"folder\":true,\"jobs\":%ld,\"concurrency\":%ld,\"elapsed_s\":%.3f,"
                "\"jobs_per_s\":%.1f,\"cpu_s\":%.3f,\"children_cpu_s\":%.3f}\n",
                count, concurrency, elapsed, static_cast<double>(count) / elapsed, cpu_seconds(RUSAGE_SELF),
                cpu_seconds(RUSAGE_CHILDREN));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool sandboxed = argc > 1 && std::string(argv[argc - 1]) == "--sandbox";
    bool folders = argc > 1 && std::string(argv[argc - 1]) == "--folder";
    if (sandboxed || folders) --argc;
    if (argc < 2 || argc > 4) {
        std::fprintf(stderr, "usage: %s COUNT [CONCURRENCY=8] [PROGRAM=/bin/true] [--sandbox | --folder]\n", argv[0]);
        return 2;
    }
    const long count = std::atol(argv[1]);
    const long concurrency = argc > 2 ? std::atol(argv[2]) : 8;
    char* program = const_cast<char*>(argc > 3 ? argv[3] : "/bin/true");
    if (count < 1 || concurrency < 1) {
        std::fprintf(stderr, "COUNT and CONCURRENCY must be positive integers\n");
        return 2;
    }
    if (folders) return run_with_folders(count, concurrency, program);
    char* child_argv[] = {program, nullptr};
    drover::worker::ChildSpec spec;
    std::filesystem::path job_dir;
    if (sandboxed) {
        try {
            static auto kinds = drover::KindRegistry::parse(std::string(R"({"kinds": {"bench": {"command": [")") +
                                                            program + R"("]}}})");
            static auto sandbox = drover::worker::Sandbox::create(
                kinds, std::filesystem::temp_directory_path() / "drover-bench-spawn-jobs");
            char tmpl[] = "/tmp/drover-bench-spawn-XXXXXX";
            job_dir = mkdtemp(tmpl);
            auto user = sandbox.user_of(*kinds.find("bench"));
            if (user && chown(job_dir.c_str(), user->uid, user->gid) != 0) throw std::runtime_error("chown");
            int dir_fd = open(job_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
            int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
            spec = sandbox.child(*kinds.find("bench"), 5, 4);
            spec.fds = {{devnull, 0}, {devnull, 1}, {devnull, 2}, {devnull, 4}, {dir_fd, 5}};
            spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/job"};
        } catch (const std::exception& e) {
            std::fprintf(stderr, "drover-bench-spawn: %s\n", e.what());
            return 1;
        }
    }

    long started = 0, reaped = 0, failed = 0;
    auto spawn_one = [&] {
        pid_t pid = 0;
        int error = 0;
        if (sandboxed) {
            auto spawned = drover::worker::spawn_child(spec);
            error = spawned.pid < 0 ? spawned.error : 0;
        } else {
            error = posix_spawn(&pid, program, nullptr, nullptr, child_argv, environ);
        }
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
    if (!job_dir.empty()) std::filesystem::remove_all(job_dir);
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
