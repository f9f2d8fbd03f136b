#include "worker/executors/command_executor.hpp"
#include "worker/executors/artifacts.hpp"
#include "worker/executors/inbound.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "core/storable.hpp"
#include "worker/executors/control_protocol.hpp"

extern char** environ;

namespace drover::worker {
namespace {

constexpr std::size_t tail_limit = 2048;
constexpr std::size_t max_line = 64 * 1024;  // longer lines are split
constexpr std::size_t max_args_in_env = 64 * 1024;

class Pipe {
public:
    Pipe() {
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

std::vector<std::string> child_environment(const Kind& kind, const ClaimedJob& job, const JobFolder& folder) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    for (const auto& [k, v] : kind.env) env.push_back(k + "=" + v);
    env.push_back("DROVER_JOB_ID=" + std::to_string(job.id));
    env.push_back("DROVER_JOB_KIND=" + job.kind);
    env.push_back("DROVER_JOB_ATTEMPT=" + std::to_string(job.attempt));
    // Linux refuses an environment string over 128 KiB (MAX_ARG_STRLEN): large
    // arguments come only on stdin and in the file DROVER_ARGS_FILE.
    if (job.args_json.size() <= max_args_in_env) env.push_back("DROVER_ARGS=" + job.args_json);
    env.push_back("DROVER_ARGS_FILE=" + folder.args_file().string());
    env.push_back("DROVER_INBOUND=" + folder.inbound().string());
    env.push_back("DROVER_OUTBOUND=" + folder.outbound().string());
    env.push_back("DROVER_CONTROL_FD=3");
    return env;
}

std::string without_trailing_space(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s;
}

}  // namespace

AttemptResult CommandExecutor::run(JobControl& control) {
    const ClaimedJob& job = control.job();
    try {
        folder_.prepare(job.args_json);
        stage_inbound(job, folder_.inbound());  // the job's upload, unpacked (inbound.hpp)
    } catch (const std::exception& e) {
        return AttemptResult::retry(std::string("job folder: ") + e.what());
    }
    const auto& dir = folder_.dir();

    Pipe in, out, err, ctl;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read_end(), 0);
    posix_spawn_file_actions_adddup2(&actions, out.write_end(), 1);
    posix_spawn_file_actions_adddup2(&actions, err.write_end(), 2);
    posix_spawn_file_actions_adddup2(&actions, ctl.write_end(), 3);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so that a stop signals the whole tree it starts;
    // default signal handling, whatever the worker blocks.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> argv_s = kind_.argv;
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto env_s = child_environment(kind_, job, folder_);
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    control.log("runner", "attempt " + std::to_string(job.attempt) + " of " + std::to_string(job.max_attempts) +
                              ": starting " + kind_.argv[0]);
    pid_t pid = 0;
    int spawn_error = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (spawn_error != 0) {
        folder_.clear();
        std::string error = "cannot start " + kind_.argv[0] + ": " + std::strerror(spawn_error);
        control.log("runner", error);
        // Retrying cannot make a missing program appear: the kind is misconfigured.
        return AttemptResult::permanent_failure(error);
    }
    in.close_read();
    out.close_write();
    err.close_write();
    ctl.close_write();
    fcntl(in.write_end(), F_SETFL, O_NONBLOCK);

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
            kill(-pid, SIGTERM);
            terminated = true;
            kill_at = now + kill_grace_;
        }
        if (terminated && now >= kill_at) {
            control.log("runner", "still running after the grace period: killing");
            kill(-pid, SIGKILL);
            kill_at = clock::time_point::max();
        }
    };

    Pipe* readers[3] = {&out, &err, &ctl};
    while (out.read_end() >= 0 || err.read_end() >= 0 || ctl.read_end() >= 0) {
        enforce_stop();
        if (to_write.empty()) in.close_write();
        pollfd fds[4] = {{out.read_end(), POLLIN, 0},
                         {err.read_end(), POLLIN, 0},
                         {ctl.read_end(), POLLIN, 0},
                         {in.write_end(), POLLOUT, 0}};
        // Wake at least every 100 ms to notice stop requests and deadlines.
        poll(fds, 4, 100);
        char buf[16384];
        for (int i = 0; i < 3; ++i) {
            if (!fds[i].revents) continue;
            ssize_t n = ::read(readers[i]->read_end(), buf, sizeof buf);
            if (n > 0) {
                splitters[i].feed(buf, static_cast<std::size_t>(n), [&](std::string_view l) { on_line(i, l); });
            } else if (n == 0 || errno != EINTR) {
                splitters[i].finish([&](std::string_view l) { on_line(i, l); });
                readers[i]->close_read();
            }
        }
        if (fds[3].revents & POLLOUT) {
            ssize_t n = ::write(in.write_end(), to_write.data(), to_write.size());
            if (n > 0) to_write.remove_prefix(static_cast<std::size_t>(n));
        }
        if (fds[3].revents & (POLLERR | POLLHUP)) to_write = {};
    }
    in.close_write();
    int status = 0;
    // The pipes closed, but the child may still run (it closed them itself):
    // keep enforcing the deadline while waiting for it. A pidfd wakes us the
    // moment it exits; a fixed 20 ms sleep here cost up to a third of the
    // rate of short commands (bench/run command_spawn).
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    while (waitpid(pid, &status, WNOHANG) != pid) {
        enforce_stop();
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            poll(&p, 1, 100);
        } else {
            control.sleep_for(std::chrono::milliseconds(terminated ? 5 : 20));
        }
    }
    if (pidfd >= 0) ::close(pidfd);
    // Whatever the child left running in its group goes with it.
    kill(-pid, SIGKILL);
    // Its outbound files become artifacts; outbound/result.json its result if it sent none (artifacts.hpp).
    if (auto outbound_result = collect_outbound(control, folder_.outbound(), kind_.artifact_retention_s);
        outbound_result && !result_json) {
        result_json = std::move(outbound_result);
    }
    folder_.clear();

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
    control.log("runner", "exit code " + std::to_string(code));
    if (snooze_s) return AttemptResult::snooze(*snooze_s);
    if (code == 0) return AttemptResult::succeeded(result_json);
    bool permanent = std::find(kind_.permanent_exit_codes.begin(), kind_.permanent_exit_codes.end(), code) !=
                     kind_.permanent_exit_codes.end();
    std::string error = "exit code " + std::to_string(code) + (tail.empty() ? "" : ": " + tail);
    return permanent ? AttemptResult::permanent_failure(error) : AttemptResult::retry(error);
}

}  // namespace drover::worker
