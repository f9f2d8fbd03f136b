#pragma once
// Processes the drover command starts and later finds again: spawning
// (detached or in a process group of their own), telling a live process from
// a dead one or from another program that got the same pid (the start time
// in /proc/<pid>/stat), and stopping them (SIGTERM, wait, SIGKILL).
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace drover::cli {

// Field 22 of /proc/<pid>/stat (clock ticks after boot), nothing when there
// is no such process or it is a zombie: with the pid it names one process
// for the machine's uptime.
std::optional<unsigned long long> process_start_time(pid_t pid);
// /proc/<pid>/cmdline with spaces between the arguments ("" when gone).
std::string process_cmdline(pid_t pid);

struct ProcessRecord {
    std::string name;  // drover-api, drover-worker, postgres, drover up
    pid_t pid = 0;
    unsigned long long start_time = 0;
    std::string log;   // its output, when we redirected it
};

enum class Liveness { alive, gone, reused };
Liveness liveness(const ProcessRecord& p);
const char* liveness_name(Liveness l);

enum class Detach {
    session,  // setsid(): outlives the terminal and the drover command (drover start)
    group,    // setpgid(0, 0): Ctrl-C reaches only the parent, which stops it (drover up);
              // SIGTERM from the kernel if the parent dies without stopping it
};

// Starts `program` with `args`, stdin from /dev/null, stdout and stderr
// appended to `log_path`, the environment plus `env` (an empty value
// removes the variable). Signal mask and dispositions are reset.
ProcessRecord spawn(const std::string& name, const std::string& program, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env, const std::string& log_path, Detach detach);

struct CommandOutput {
    int status = -1;  // exit code, or 128 + signal
    std::string out;  // stdout
    std::string err;  // stderr
};
// Runs a helper to completion in a process group of its own (so that Ctrl-C
// does not kill it halfway), capturing its output.
CommandOutput run_command(const std::vector<std::string>& argv);

// Blocks SIGINT, SIGTERM and SIGHUP in this process so that wait_signal()
// can take them between steps; children get them unblocked.
void block_stop_signals();
// Waits up to `timeout` for a blocked stop signal (or a child's SIGCHLD when
// `child` is true); 0 when none came.
int wait_signal(std::chrono::milliseconds timeout, bool child = false);

// The exit status of our own child `pid` if it has exited (reaps it).
std::optional<int> reap(pid_t pid);

struct StopOutcome {
    std::vector<std::string> stopped;  // "drover-api (pid 12)"
    std::vector<std::string> forced;   // those that needed SIGKILL
};
// SIGTERM to each live process, then waits up to `grace` for all to exit,
// then SIGKILL for the rest. Processes that are gone or reused are skipped.
StopOutcome stop_processes(const std::vector<ProcessRecord>& processes, std::chrono::milliseconds grace);

// The last `lines` lines of a file ("" when unreadable).
std::string tail_file(const std::string& path, int lines = 20);

}  // namespace drover::cli
