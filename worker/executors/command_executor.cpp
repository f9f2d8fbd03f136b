#include "worker/executors/command_executor.hpp"
#include "worker/executors/artifacts.hpp"
#include "worker/executors/inbound.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>

#include "core/storable.hpp"
#include "worker/executors/child_process.hpp"
#include "worker/executors/control_protocol.hpp"

namespace drover::worker {
namespace {

constexpr std::size_t tail_limit = 2048;
constexpr std::size_t max_line = 64 * 1024;  // longer lines are split
constexpr std::size_t max_args_in_env = 64 * 1024;

class Pipe {
public:
    // make false: no pipe, both ends -1 (poll skips them).
    explicit Pipe(bool make = true) {
        if (!make) return;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        read_ = fds[0];
        write_ = fds[1];
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    int read_end() const { return read_; }
    int write_end() const { return write_; }
    void close_read() {
        if (read_ >= 0) ::close(read_);
        read_ = -1;
    }
    void close_write() {
        if (write_ >= 0) ::close(write_);
        write_ = -1;
    }

private:
    int read_ = -1;
    int write_ = -1;
};

// Splits one output stream into lines and hands each to `emit`.
class LineSplitter {
public:
    template <typename Emit>
    void feed(const char* data, std::size_t n, Emit&& emit) {
        pending_.append(data, n);
        std::size_t start = 0;
        for (;;) {
            auto nl = pending_.find('\n', start);
            if (nl == std::string::npos) break;
            emit(std::string_view(pending_).substr(start, nl - start));
            start = nl + 1;
        }
        pending_.erase(0, start);
        while (pending_.size() >= max_line) {
            // Not inside a UTF-8 sequence, so a long line stays readable across the cut.
            auto piece = utf8_prefix(pending_, max_line);
            if (piece.empty()) piece = std::string_view(pending_).substr(0, max_line);
            auto n = piece.size();
            emit(piece);
            pending_.erase(0, n);
        }
    }
    template <typename Emit>
    void finish(Emit&& emit) {
        if (!pending_.empty()) emit(std::string_view(pending_));
        pending_.clear();
    }

private:
    std::string pending_;
};

// Built from an allow-list, never from the worker's environment (which holds
// DROVER_DATABASE_URL and the worker's other settings). The kind's `env`
// replaces a variable of the same name instead of adding a second one.
std::vector<std::string> child_environment(const Kind& kind, const ClaimedJob& job, const std::string& dir) {
    std::map<std::string, std::string> env;
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    env["HOME"] = dir;
    env["TMPDIR"] = "/tmp";
    for (const char* passed : {"LANG", "LC_ALL", "LC_CTYPE", "TZ"}) {
        if (const char* v = std::getenv(passed)) env[passed] = v;
    }
    for (const auto& [k, v] : kind.env) env[k] = v;
    env["DROVER_JOB_ID"] = std::to_string(job.id);
    env["DROVER_JOB_KIND"] = job.kind;
    env["DROVER_JOB_ATTEMPT"] = std::to_string(job.attempt);
    // Linux refuses an environment string over 128 KiB (MAX_ARG_STRLEN): large
    // arguments come only on stdin and in the file DROVER_ARGS_FILE.
    if (job.args_json.size() <= max_args_in_env) env["DROVER_ARGS"] = job.args_json;
    env["DROVER_ARGS_FILE"] = dir + "/args.json";
    env["DROVER_INBOUND"] = dir + "/inbound";
    env["DROVER_OUTBOUND"] = dir + "/outbound";
    env["DROVER_CONTROL_FD"] = "3";
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

long parent_of(long pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto paren = text.rfind(')');
    char state = 0;
    long ppid = 0;
    if (paren == std::string::npos || std::sscanf(text.c_str() + paren + 1, " %c %ld", &state, &ppid) != 2) return 0;
    return ppid;
}

// The PID that bwrap's --info-fd names ("child-pid": N, the first process of
// the job's PID namespace), once it is there; trusted only when it is bwrap's
// child, bwrap being our child or (own_pid_namespace) our grandchild.
std::optional<pid_t> namespace_init(const std::string& info, pid_t child) {
    auto at = info.find("\"child-pid\":");
    if (at == std::string::npos) return std::nullopt;
    long pid = std::strtol(info.c_str() + at + 12, nullptr, 10);
    if (pid <= 1) return std::nullopt;
    long bwrap = parent_of(pid);
    if (bwrap <= 1 || (bwrap != child && parent_of(bwrap) != child)) return std::nullopt;
    return static_cast<pid_t>(pid);
}

// True once /proc has no live process `pid` (gone, or a zombie).
bool process_gone(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto paren = text.rfind(')');
    return paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] == 'Z' || text[paren + 2] == 'X';
}

std::string without_trailing_space(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s;
}

}  // namespace

AttemptResult CommandExecutor::run(JobControl& control) {
    const ClaimedJob& job = control.job();
    const bool sandboxed = sandbox_.enabled();
    std::unique_ptr<JobFolder> folder;
    try {
        folder = std::make_unique<JobFolder>(
            jobs_dir_ / (std::to_string(job.id) + "-" + std::to_string(job.attempt)), job.args_json,
            sandbox_.user_of(kind_), sandboxed ? nullptr : spares_);
        stage_inbound(job, folder->dir() / "inbound");  // the job's upload, unpacked (inbound.hpp)
    } catch (const std::exception& e) {
        return AttemptResult::retry(std::string("job folder: ") + e.what());
    }
    // The folder as the job sees it.
    const std::string dir = sandboxed ? std::string(Sandbox::job_dir) : folder->dir().string();

    Pipe in, out, err, ctl;
    Pipe info(sandboxed);  // bwrap's --info-fd
    ChildSpec spec;
    if (sandboxed) {
        spec = sandbox_.child(kind_, 5, 4);
        spec.fds = {{info.write_end(), 4}, {folder->fd(), 5}};
    } else {
        spec.program = kind_.argv[0];
        spec.argv = kind_.argv;
        spec.chdir = folder->dir().string();
        spec.limits = kind_.limits;
    }
    spec.fds.insert(spec.fds.end(),
                    {{in.read_end(), 0}, {out.write_end(), 1}, {err.write_end(), 2}, {ctl.write_end(), 3}});
    spec.env = child_environment(kind_, job, dir);

    control.log("runner", "attempt " + std::to_string(job.attempt) + " of " + std::to_string(job.max_attempts) +
                              ": starting " + kind_.argv[0]);
    Spawned spawned;
    try {
        spawned = spawn_child(spec);
    } catch (const std::exception& e) {
        return AttemptResult::retry(std::string("cannot start a process: ") + e.what());
    }
    const pid_t pid = spawned.pid;
    if (pid < 0) {
        std::string error = "cannot start " + spec.program + ": " + std::strerror(spawned.error);
        control.log("runner", error);
        // Retrying cannot make a missing program appear: the kind is misconfigured.
        return AttemptResult::permanent_failure(error);
    }
    in.close_read();
    out.close_write();
    err.close_write();
    ctl.close_write();
    info.close_write();
    fcntl(in.write_end(), F_SETFL, O_NONBLOCK);
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    std::string info_text;
    std::optional<pid_t> ns_init;  // sandboxed: the first process of the job's PID namespace
    bool exited = false;           // the child (bwrap, or the command) has exited
    // Signals the job's processes. Sandboxed, SIGTERM goes to the job's
    // session (bwrap --new-session makes the namespace's first process lead
    // it), not to bwrap, whose death would SIGKILL them at once; SIGKILL goes
    // to the namespace's first process, and with it the kernel kills every
    // process in the namespace, detached or not.
    auto signal_job = [&](int sig) {
        if (!sandboxed) {
            kill(-pid, sig);
            return;
        }
        if (!ns_init) ns_init = namespace_init(info_text, pid);
        if (sig != SIGKILL && ns_init) {
            kill(-*ns_init, sig);
            return;
        }
        if (ns_init) kill(*ns_init, SIGKILL);
        if (!exited) kill(pid, SIGKILL);
    };
    std::string_view to_write = job.args_json;
    std::string out_tail, err_tail;
    LineSplitter splitters[3];
    std::optional<std::string> result_json;
    std::optional<int> snooze_s;
    auto on_line = [&](int stream, std::string_view raw) {
        // Whatever bytes the job wrote: what is kept (log, error tail, progress) is storable text.
        std::string line = storable_text(raw);
        if (stream == 0 || stream == 1) {
            std::string& tail = stream == 0 ? out_tail : err_tail;
            tail.append(line).append("\n");
            if (tail.size() > tail_limit) tail.erase(0, tail.size() - tail_limit);
            control.log(stream == 0 ? "stdout" : "stderr", line);
            return;
        }
        auto parsed = parse_control_line(line);
        if (auto* p = std::get_if<ProgressLine>(&parsed)) {
            control.progress(p->percent, p->message);
        } else if (auto* r = std::get_if<ResultLine>(&parsed)) {
            result_json = r->json;
        } else if (auto* s = std::get_if<SnoozeLine>(&parsed)) {
            snooze_s = s->seconds;
        } else {
            control.log("runner", "ignored control line (" + std::get<BadLine>(parsed).why + "): " +
                                      std::string(utf8_prefix(line, 200)));
        }
    };

    using clock = std::chrono::steady_clock;
    auto deadline = job.timeout_s ? clock::now() + std::chrono::seconds(*job.timeout_s) : clock::time_point::max();
    auto kill_at = clock::time_point::max();
    bool timed_out = false;
    bool terminated = false;
    // On a deadline or a stop request: SIGTERM to the whole group, then
    // SIGKILL once the grace period has passed.
    auto enforce_stop = [&] {
        auto now = clock::now();
        if (!terminated && (now >= deadline || control.stop_reason() != StopReason::none)) {
            timed_out = now >= deadline;
            control.log("runner", timed_out ? "timed out after " + std::to_string(*job.timeout_s) + " s: stopping"
                                            : std::string("stop requested: stopping"));
            signal_job(SIGTERM);
            terminated = true;
            kill_at = now + kill_grace_;
        }
        if (terminated && now >= kill_at) {
            control.log("runner", "still running after the grace period: killing");
            signal_job(SIGKILL);
            kill_at = clock::time_point::max();
        }
    };

    Pipe* readers[4] = {&out, &err, &ctl, &info};
    while (out.read_end() >= 0 || err.read_end() >= 0 || ctl.read_end() >= 0) {
        enforce_stop();
        if (to_write.empty()) in.close_write();
        pollfd fds[6] = {{out.read_end(), POLLIN, 0},
                         {err.read_end(), POLLIN, 0},
                         {ctl.read_end(), POLLIN, 0},
                         {info.read_end(), POLLIN, 0},
                         {in.write_end(), POLLOUT, 0},
                         {exited ? -1 : pidfd, POLLIN, 0}};
        // Wake at least every 100 ms to notice stop requests and deadlines.
        poll(fds, 6, 100);
        char buf[16384];
        for (int i = 0; i < 4; ++i) {
            if (!fds[i].revents) continue;
            ssize_t n = ::read(readers[i]->read_end(), buf, sizeof buf);
            if (n > 0 && i == 3) {
                if (info_text.size() < 4096) info_text.append(buf, static_cast<std::size_t>(n));
            } else if (n > 0) {
                splitters[i].feed(buf, static_cast<std::size_t>(n), [&](std::string_view l) { on_line(i, l); });
            } else if (n == 0 || errno != EINTR) {
                if (i < 3) splitters[i].finish([&](std::string_view l) { on_line(i, l); });
                readers[i]->close_read();
            }
        }
        if (fds[4].revents & POLLOUT) {
            ssize_t n = ::write(in.write_end(), to_write.data(), to_write.size());
            if (n > 0) to_write.remove_prefix(static_cast<std::size_t>(n));
        }
        if (fds[4].revents & (POLLERR | POLLHUP)) to_write = {};
        if (fds[5].revents) {
            // Its first process ended: whatever it left running (holding our
            // pipes open, perhaps) ends with it.
            exited = true;
            if (sandboxed) {
                signal_job(SIGKILL);
            } else {
                kill(-pid, SIGKILL);
            }
        }
    }
    in.close_write();
    int status = 0;
    // The pipes closed, but the child may still run (it closed them itself):
    // keep enforcing the deadline while waiting for it. A pidfd wakes us the
    // moment it exits; a fixed 20 ms sleep here cost up to a third of the
    // rate of short commands (bench/run command_spawn).
    while (waitpid(pid, &status, WNOHANG) != pid) {
        enforce_stop();
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            poll(&p, 1, 100);
        } else {
            control.sleep_for(std::chrono::milliseconds(terminated ? 5 : 20));
        }
    }
    exited = true;
    if (pidfd >= 0) ::close(pidfd);
    // Whatever the child left running goes with it: the whole PID namespace
    // (its first process dies when bwrap does; made sure of here) or, without
    // the sandbox, the process group. Its folder goes once nothing can write to it.
    if (sandboxed) {
        if (!ns_init) ns_init = namespace_init(info_text, pid);
        if (ns_init) {
            kill(*ns_init, SIGKILL);
            for (int i = 0; i < 2000 && !process_gone(*ns_init); ++i) ::usleep(1000);
        }
    } else {
        kill(-pid, SIGKILL);
    }
    // Its outbound files become artifacts; outbound/result.json its result if
    // it sent none (artifacts.hpp). Read only now: nothing of the job runs any
    // more that could swap a file for a link meanwhile. An empty outbound/
    // (most jobs) is not read.
    if (!folder->outbound_is_empty()) {
        if (auto outbound_result = collect_outbound(control, folder->dir() / "outbound", kind_.artifact_retention_s);
            outbound_result && !result_json) {
            result_json = std::move(outbound_result);
        }
    }
    folder.reset();

    // The error names the last lines the job wrote: stderr, or stdout if it wrote nothing there.
    std::string tail = without_trailing_space(err_tail.empty() ? out_tail : err_tail);
    if (tail.size() > 500) {
        auto nl = tail.find('\n', tail.size() - 500);
        tail = tail.substr(nl == std::string::npos ? tail.size() - 500 : nl + 1);
    }
    if (timed_out) return AttemptResult::retry("timed out after " + std::to_string(*job.timeout_s) + " s");
    if (terminated) return AttemptResult::retry("stopped");
    if (WIFSIGNALED(status)) {
        std::string error = "killed by signal " + std::to_string(WTERMSIG(status));
        control.log("runner", error);
        return AttemptResult::retry(error + (tail.empty() ? "" : ": " + tail));
    }
    int code = WEXITSTATUS(status);
    if (sandboxed && code == 1 && err_tail.find("bwrap: execvp ") != std::string::npos) {
        std::string error = "cannot start " + kind_.argv[0] + " in the sandbox: " + tail;
        control.log("runner", error);
        return AttemptResult::permanent_failure(error);
    }
    // bwrap reports a command killed by signal N as exit code 128 + N.
    if (sandboxed && code > 128 && code <= 128 + 64 &&
        std::find(kind_.permanent_exit_codes.begin(), kind_.permanent_exit_codes.end(), code) ==
            kind_.permanent_exit_codes.end()) {
        std::string error = "killed by signal " + std::to_string(code - 128);
        control.log("runner", error);
        return AttemptResult::retry(error + (tail.empty() ? "" : ": " + tail));
    }
    control.log("runner", "exit code " + std::to_string(code));
    if (snooze_s) return AttemptResult::snooze(*snooze_s);
    if (code == 0) return AttemptResult::succeeded(result_json);
    bool permanent = std::find(kind_.permanent_exit_codes.begin(), kind_.permanent_exit_codes.end(), code) !=
                     kind_.permanent_exit_codes.end();
    std::string error = "exit code " + std::to_string(code) + (tail.empty() ? "" : ": " + tail);
    return permanent ? AttemptResult::permanent_failure(error) : AttemptResult::retry(error);
}

}  // namespace drover::worker
