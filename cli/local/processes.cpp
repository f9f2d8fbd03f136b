#include "cli/local/processes.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace drover::cli {
namespace {

void reset_signals_in_child() {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) signal(s, SIG_DFL);
}

std::vector<std::string> child_environment(const std::map<std::string, std::string>& env) {
    std::map<std::string, std::string> merged;
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string_view::npos) merged[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    for (const auto& [k, v] : env) {
        if (v.empty()) {
            merged.erase(k);
        } else {
            merged[k] = v;
        }
    }
    std::vector<std::string> out;
    for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
    return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

int wait_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

std::optional<unsigned long long> process_start_time(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    if (!in) return std::nullopt;
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    auto close = content.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(content.substr(close + 2));
    std::string field;
    rest >> field;  // field 3: state
    if (field == "Z" || field == "X") return std::nullopt;
    for (int i = 4; i <= 22; ++i) rest >> field;
    try {
        return std::stoull(field);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string process_cmdline(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!s.empty() && s.back() == '\0') s.pop_back();
    for (char& c : s) c = c == '\0' ? ' ' : c;
    return s;
}

Liveness liveness(const ProcessRecord& p) {
    auto start = process_start_time(p.pid);
    if (!start) return Liveness::gone;
    return *start == p.start_time ? Liveness::alive : Liveness::reused;
}

const char* liveness_name(Liveness l) {
    switch (l) {
        case Liveness::alive: return "alive";
        case Liveness::gone: return "gone";
        case Liveness::reused: return "reused";
    }
    return "?";
}

ProcessRecord spawn(const std::string& name, const std::string& program, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env, const std::string& log_path, Detach detach) {
    std::vector<std::string> argv_strings = {program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<std::string> env_strings = child_environment(env);
    auto argv = c_strings(argv_strings);
    auto envp = c_strings(env_strings);
    int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(log_fd);
        throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    }
    if (pid == 0) {
        if (detach == Detach::session) {
            setsid();
        } else {
            setpgid(0, 0);
            // drover up killed outright (SIGKILL, OOM) cannot stop its
            // children: the kernel sends them SIGTERM instead.
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent) _exit(1);
        }
        reset_signals_in_child();
        int null_fd = open("/dev/null", O_RDONLY);
        dup2(null_fd, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        close_range(3, ~0U, 0);
        execve(program.c_str(), argv.data(), envp.data());
        dprintf(2, "drover: cannot run %s: %s\n", program.c_str(), std::strerror(errno));
        _exit(127);
    }
    // Also from the parent, so the group exists before anyone signals it.
    if (detach == Detach::group) setpgid(pid, pid);
    close(log_fd);
    ProcessRecord record{name, pid, 0, log_path};
    // The child exists from fork on, so its start time is readable now.
    record.start_time = process_start_time(pid).value_or(0);
    return record;
}

CommandOutput run_command(const std::vector<std::string>& argv_in) {
    std::vector<std::string> argv_strings = argv_in;
    auto argv = c_strings(argv_strings);
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        reset_signals_in_child();
        int null_fd = open("/dev/null", O_RDONLY);
        dup2(null_fd, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        close_range(3, ~0U, 0);
        execv(argv[0], argv.data());
        dprintf(2, "cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(out_pipe[1]);
    close(err_pipe[1]);
    CommandOutput result;
    // stderr on a thread of its own: a helper that fills one pipe while we
    // read the other must not deadlock.
    std::thread err_reader([&] { result.err = read_all(err_pipe[0]); });
    result.out = read_all(out_pipe[0]);
    err_reader.join();
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = wait_status(status);
    return result;
}

void block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, nullptr);
}

int wait_signal(std::chrono::milliseconds timeout, bool child) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (child) sigaddset(&set, SIGCHLD);
    timespec ts{static_cast<time_t>(timeout.count() / 1000), static_cast<long>(timeout.count() % 1000) * 1000000L};
    for (;;) {
        int s = sigtimedwait(&set, nullptr, &ts);
        if (s >= 0) return s;
        if (errno == EAGAIN) return 0;
        if (errno != EINTR) return 0;
    }
}

std::optional<int> reap(pid_t pid) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return wait_status(status);
    return std::nullopt;
}

StopOutcome stop_processes(const std::vector<ProcessRecord>& processes, std::chrono::milliseconds grace) {
    StopOutcome outcome;
    std::vector<const ProcessRecord*> pending;
    for (const auto& p : processes) {
        if (liveness(p) != Liveness::alive) continue;
        if (kill(p.pid, SIGTERM) == 0) pending.push_back(&p);
    }
    auto deadline = std::chrono::steady_clock::now() + grace;
    for (;;) {
        std::vector<const ProcessRecord*> alive;
        for (const auto* p : pending) {
            reap(p->pid);  // ours (drover up, or a failed start): reap, or it stays a zombie
            if (liveness(*p) == Liveness::alive) {
                alive.push_back(p);
            } else {
                outcome.stopped.push_back(p->name + " (pid " + std::to_string(p->pid) + ")");
            }
        }
        pending = alive;
        if (pending.empty() || std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (const auto* p : pending) {
        kill(p->pid, SIGKILL);
        for (int i = 0; i < 100 && liveness(*p) == Liveness::alive; ++i) {
            reap(p->pid);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        outcome.forced.push_back(p->name + " (pid " + std::to_string(p->pid) + ")");
    }
    return outcome;
}

std::string tail_file(const std::string& path, int lines) {
    std::ifstream in(path);
    if (!in) return {};
    std::deque<std::string> last;
    for (std::string line; std::getline(in, line);) {
        last.push_back(line);
        if (static_cast<int>(last.size()) > lines) last.pop_front();
    }
    std::string out;
    for (const auto& l : last) out += l + "\n";
    return out;
}

}  // namespace drover::cli
