#include "worker/executors/command_executor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

extern char** environ;

namespace drover::worker {
namespace {

constexpr std::size_t tail_limit = 2048;

struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        read = fds[0];
        write = fds[1];
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (read >= 0) ::close(read);
        read = -1;
    }
    void close_write() {
        if (write >= 0) ::close(write);
        write = -1;
    }
};

// Keeps the last bytes a stream wrote, for the error message of a failed attempt.
void keep_tail(std::string& tail, const char* data, std::size_t n) {
    tail.append(data, n);
    if (tail.size() > tail_limit) tail.erase(0, tail.size() - tail_limit);
}

std::string last_lines(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    auto cut = text.size() > 500 ? text.rfind('\n', text.size() - 500) : std::string::npos;
    return cut == std::string::npos ? text : text.substr(cut + 1);
}

std::vector<std::string> child_environment(const Kind& kind, const ClaimedJob& job, const std::filesystem::path& dir) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    for (const auto& [k, v] : kind.env) env.push_back(k + "=" + v);
    env.push_back("DROVER_JOB_ID=" + std::to_string(job.id));
    env.push_back("DROVER_JOB_KIND=" + job.kind);
    env.push_back("DROVER_JOB_ATTEMPT=" + std::to_string(job.attempt));
    env.push_back("DROVER_ARGS=" + job.args_json);
    env.push_back("DROVER_INBOUND=" + (dir / "inbound").string());
    env.push_back("DROVER_OUTBOUND=" + (dir / "outbound").string());
    return env;
}

}  // namespace

AttemptResult CommandExecutor::run(JobControl& control) {
    const ClaimedJob& job = control.job();
    auto dir = jobs_dir_ / std::to_string(job.id);
    std::filesystem::create_directories(dir / "inbound");
    std::filesystem::create_directories(dir / "outbound");

    Pipe in, out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read, 0);
    posix_spawn_file_actions_adddup2(&actions, out.write, 1);
    posix_spawn_file_actions_adddup2(&actions, err.write, 2);
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
    auto env_s = child_environment(kind_, job, dir);
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t pid = 0;
    int spawn_error = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (spawn_error != 0) {
        std::filesystem::remove_all(dir);
        // Retrying cannot make a missing program appear: the kind is misconfigured.
        return {Outcome::Type::failed, std::nullopt,
                "cannot start " + kind_.argv[0] + ": " + std::strerror(spawn_error)};
    }
    in.close_read();
    out.close_write();
    err.close_write();
    fcntl(in.write, F_SETFL, O_NONBLOCK);

    std::string_view to_write = job.args_json;
    std::string out_tail, err_tail;
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
            kill(-pid, SIGTERM);
            terminated = true;
            kill_at = now + kill_grace_;
        }
        if (terminated && now >= kill_at) {
            kill(-pid, SIGKILL);
            kill_at = clock::time_point::max();
        }
    };

    while (out.read >= 0 || err.read >= 0) {
        enforce_stop();
        pollfd fds[3] = {{out.read, POLLIN, 0}, {err.read, POLLIN, 0},
                         {to_write.empty() ? -1 : in.write, POLLOUT, 0}};
        if (to_write.empty()) in.close_write();
        // Wake at least every 100 ms to notice stop requests and deadlines.
        poll(fds, 3, 100);
        char buf[8192];
        for (int i = 0; i < 2; ++i) {
            if (!fds[i].revents) continue;
            Pipe& p = i == 0 ? out : err;
            ssize_t n = ::read(p.read, buf, sizeof buf);
            if (n > 0) {
                keep_tail(i == 0 ? out_tail : err_tail, buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                p.close_read();
            }
        }
        if (fds[2].revents & POLLOUT) {
            ssize_t n = ::write(in.write, to_write.data(), to_write.size());
            if (n > 0) to_write.remove_prefix(static_cast<std::size_t>(n));
        }
        if (fds[2].revents & (POLLERR | POLLHUP)) to_write = {};
    }
    in.close_write();
    int status = 0;
    // The pipes closed, but the child may still run (it closed them itself):
    // keep enforcing the deadline while waiting for it.
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        enforce_stop();
        control.sleep_for(std::chrono::milliseconds(20));
    }
    // Whatever the child left running in its group goes with it.
    kill(-pid, SIGKILL);
    std::filesystem::remove_all(dir);

    if (timed_out) {
        return {Outcome::Type::retry, std::nullopt, "timed out after " + std::to_string(*job.timeout_s) + " s"};
    }
    if (terminated) return {Outcome::Type::retry, std::nullopt, "stopped"};
    std::string tail = last_lines(err_tail.empty() ? out_tail : err_tail);
    if (WIFSIGNALED(status)) {
        return {Outcome::Type::retry, std::nullopt,
                "killed by signal " + std::to_string(WTERMSIG(status)) + (tail.empty() ? "" : ": " + tail)};
    }
    int code = WEXITSTATUS(status);
    if (code == 0) return {};
    bool permanent = std::find(kind_.permanent_exit_codes.begin(), kind_.permanent_exit_codes.end(), code) !=
                     kind_.permanent_exit_codes.end();
    return {permanent ? Outcome::Type::failed : Outcome::Type::retry, std::nullopt,
            "exit code " + std::to_string(code) + (tail.empty() ? "" : ": " + tail)};
}

}  // namespace drover::worker
