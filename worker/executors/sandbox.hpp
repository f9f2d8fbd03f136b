#pragma once
// The sandbox every command job runs in (docs/kinds.md, "Sandbox"), built
// with bubblewrap (Debian's `bubblewrap`, instead of hand-written namespace
// and mount code): a user namespace under an unprivileged user, a mount
// namespace where only the job's own folder (at /job) is writable and other
// jobs' folders do not exist, its own PID namespace (when its first process
// ends, or the worker dies however it dies, the kernel kills every process
// the job started), its own IPC and UTS namespaces, a new session (no
// terminal to inject input into), and optionally no network.
//
// The worker starts bwrap through spawn_child (child_process.hpp), which sets
// the kind's limits first. A worker running as root runs bwrap as root (no
// user namespace needed) and the job's command through setpriv, as the
// kind's unprivileged user with no capabilities and no new privileges; any
// other worker runs bwrap as itself in a user namespace of its own (which
// needs unprivileged user namespaces), and its jobs run as its own user.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/kinds.hpp"
#include "worker/executors/child_process.hpp"

namespace drover::worker {

class Sandbox {
public:
    // DROVER_SANDBOX=off: plain child processes as the worker's user (unsafe).
    static Sandbox off();
    // A shared "off" sandbox, for runners built without one (tests).
    static const Sandbox& unsandboxed();
    // Finds bwrap, resolves each command kind's user (never root), refuses
    // binds that would show the job folders, and starts one empty sandbox
    // per user to prove it works. Throws ConfigError saying what is wrong
    // and how to fix it otherwise.
    static Sandbox create(const KindRegistry& kinds, const std::filesystem::path& jobs_dir);

    bool enabled() const { return enabled_; }
    // The user the kind's jobs run as, who owns their folders; nullopt: the
    // worker's own user (sandbox off, or a worker that is not root).
    std::optional<JobUser> user_of(const Kind& kind) const;
    // What to start for one job of the kind: bwrap and its arguments, with
    // the job's folder bound from fd `dir_fd` and bwrap's information
    // (the PID of the namespace's first process) written to `info_fd`.
    ChildSpec child(const Kind& kind, int dir_fd, int info_fd) const;
    // The folder the job sees as its own.
    static constexpr const char* job_dir = "/job";
    // The same sandbox around a program with an empty folder, for the probe
    // and for bench/spawn_baseline.cpp (argv only; the caller starts it).
    std::vector<std::string> probe_argv(const std::string& program, const std::optional<JobUser>& user) const;
    const std::string& bwrap_path() const { return bwrap_; }

private:
    std::vector<std::string> common_args() const;
    std::vector<std::string> become_args(const std::optional<JobUser>& user) const;
    bool enabled_ = false;
    std::string bwrap_;
    bool switch_user_ = false;  // the worker is root: jobs run as their kind's user
    std::map<std::string, JobUser, std::less<>> users_;  // by kind name
};

}  // namespace drover::worker
