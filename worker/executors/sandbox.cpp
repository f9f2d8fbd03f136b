#include "worker/executors/sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "core/error.hpp"

namespace drover::worker {
namespace fs = std::filesystem;

namespace {

// Read-only pieces of /etc that ordinary programs need: user and group
// names, the loader's cache, name resolution, time zone, certificates,
// Debian's alternatives (/usr/bin/awk points there). Not the rest of /etc.
const char* const etc_pieces[] = {
    "/etc/passwd",    "/etc/group",      "/etc/nsswitch.conf", "/etc/ld.so.cache", "/etc/ld.so.conf",
    "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",    "/etc/hosts",       "/etc/resolv.conf",
    "/etc/host.conf", "/etc/gai.conf",   "/etc/services",      "/etc/protocols",   "/etc/ssl",
    "/etc/ca-certificates", "/etc/alternatives", "/etc/mime.types"};

std::optional<JobUser> lookup_user(const std::string& name_or_uid) {
    passwd pw{};
    passwd* found = nullptr;
    char buf[4096];
    bool numeric = !name_or_uid.empty() && name_or_uid.find_first_not_of("0123456789") == std::string::npos;
    if (numeric) {
        uid_t uid = static_cast<uid_t>(std::stoul(name_or_uid));
        getpwuid_r(uid, &pw, buf, sizeof buf, &found);
        if (!found) return JobUser{uid, static_cast<gid_t>(uid), name_or_uid};
    } else {
        getpwnam_r(name_or_uid.c_str(), &pw, buf, sizeof buf, &found);
        if (!found) return std::nullopt;
    }
    return JobUser{found->pw_uid, found->pw_gid, found->pw_name};
}

bool path_within(const fs::path& inner, const fs::path& outer) {
    auto i = inner.begin();
    for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
        if (o->empty()) continue;  // a trailing slash
        if (i == inner.end() || *i != *o) return false;
    }
    return true;
}

// Runs argv with stdout and stderr captured; returns exit status and output.
std::pair<int, std::string> run_captured(const std::string& program, const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return {-1, std::strerror(errno)};
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ChildSpec spec;
    spec.program = program;
    spec.argv = argv;
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
    spec.fds = {{devnull, 0}, {fds[1], 1}, {fds[1], 2}};
    Spawned s = spawn_child(spec);
    ::close(fds[1]);
    ::close(devnull);
    if (s.pid < 0) {
        ::close(fds[0]);
        return {-1, "cannot start " + program + ": " + std::strerror(s.error)};
    }
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    char buf[4096];
    for (;;) {
        pollfd p{fds[0], POLLIN, 0};
        if (poll(&p, 1, 200) > 0) {
            ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n <= 0) break;
            if (out.size() < 4096) out.append(buf, static_cast<std::size_t>(n));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            kill(s.pid, SIGKILL);
            out += "(no answer within 20 s)";
            break;
        }
    }
    ::close(fds[0]);
    int status = 0;
    waitpid(s.pid, &status, 0);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

}  // namespace

Sandbox Sandbox::off() { return Sandbox(); }

const Sandbox& Sandbox::unsandboxed() {
    static const Sandbox none;
    return none;
}

Sandbox Sandbox::create(const KindRegistry& kinds, const fs::path& jobs_dir) {
    Sandbox s;
    s.enabled_ = true;
    const std::string fix =
        " Fix that, or set DROVER_SANDBOX=off (unsafe: jobs can then read other jobs' folders and the worker's files).";
    if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) != 0) {
        throw ConfigError("the job sandbox needs /usr/bin/setpriv (Debian package util-linux) to run jobs as their user." + fix);
    }
    for (const char* candidate : {"/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"}) {
        if (access(candidate, X_OK) == 0) {
            s.bwrap_ = candidate;
            break;
        }
    }
    if (s.bwrap_.empty()) {
        throw ConfigError("the job sandbox needs bubblewrap (bwrap), which is not installed (apt-get install bubblewrap)." +
                          fix);
    }
    s.switch_user_ = geteuid() == 0;
    std::optional<JobUser> default_user;
    if (s.switch_user_) {
        default_user = lookup_user("drover-job");
        if (!default_user) default_user = lookup_user("nobody");
        if (!default_user) default_user = JobUser{65534, 65534, "65534"};
    }
    fs::path jobs = fs::weakly_canonical(jobs_dir);
    std::set<std::pair<uid_t, gid_t>> users;
    for (const Kind* kind : kinds.all()) {
        if (kind->type != Kind::Type::command) continue;
        auto fail = [&](const std::string& what) { return ConfigError("kind '" + kind->name + "': " + what); };
        if (s.switch_user_) {
            JobUser user = *default_user;
            if (!kind->user.empty()) {
                auto found = lookup_user(kind->user);
                if (!found) throw fail("no user named '" + kind->user + "' on this host");
                user = *found;
            }
            if (user.uid == 0 || user.gid == 0) throw fail("jobs never run as root (user '" + user.name + "')");
            s.users_[kind->name] = user;
            users.insert({user.uid, user.gid});
        } else if (!kind->user.empty()) {
            auto found = lookup_user(kind->user);
            if (!found || found->uid != getuid()) {
                throw fail("'user' " + kind->user + ": only a worker running as root can run jobs as another user");
            }
        }
        for (const auto& [path, writable] : kind->binds) {
            std::error_code ec;
            if (!fs::exists(path, ec)) throw fail("'bind' path " + path + " does not exist");
            fs::path real = fs::weakly_canonical(path);
            if (path_within(real, jobs) || path_within(jobs, real)) {
                throw fail("'bind' path " + path + " would show the job folders (" + jobs.string() + ")");
            }
        }
    }
    // One empty sandbox per user proves that this host can run it.
    std::vector<std::optional<JobUser>> probes;
    if (s.switch_user_) {
        if (users.empty()) users.insert({default_user->uid, default_user->gid});
        for (auto [uid, gid] : users) probes.push_back(JobUser{uid, gid, std::to_string(uid)});
    } else {
        probes.push_back(std::nullopt);
    }
    for (const auto& user : probes) {
        auto [code, output] = run_captured(s.bwrap_, s.probe_argv("/bin/true", user));
        if (code != 0) {
            throw ConfigError("the job sandbox does not start on this host" +
                              (user ? " (as uid " + std::to_string(user->uid) + ")" : std::string()) + ": bwrap said: " +
                              (output.empty() ? "exit " + std::to_string(code) : output) +
                              (s.switch_user_ ? std::string(".")
                                              : std::string(". Run by a user other than root, it needs unprivileged user "
                                                            "namespaces (sysctl user.max_user_namespaces > 0; on some "
                                                            "kernels kernel.unprivileged_userns_clone=1).")) +
                              fix);
        }
    }
    return s;
}

std::optional<JobUser> Sandbox::user_of(const Kind& kind) const {
    auto it = users_.find(kind.name);
    if (it == users_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> Sandbox::common_args() const {
    std::vector<std::string> a = {bwrap_, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                                  "--hostname", "drover-job", "--die-with-parent", "--new-session"};
    if (switch_user_) {
        // bwrap runs as root (it must: as the job's user it could not even
        // resolve the job folder's path under a private state folder), with
        // only the capabilities setpriv needs to become the job's user.
        // (CAP_DAC_OVERRIDE: to enter the job's 0700 folder, which is the job's).
        a.insert(a.end(), {"--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add",
                           "CAP_SETPCAP", "--cap-add", "CAP_DAC_OVERRIDE"});
    } else {
        // bwrap runs as the worker's user, in a user namespace of its own.
        a.insert(a.end(), {"--unshare-user", "--disable-userns"});
    }
    a.insert(a.end(), {"--ro-bind", "/usr", "/usr"});
    // /bin, /lib… are links into /usr on Debian 12; older layouts have folders.
    for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
        std::error_code ec;
        auto st = fs::symlink_status(top, ec);
        if (ec || !fs::exists(st)) continue;
        if (fs::is_symlink(st)) {
            a.insert(a.end(), {"--symlink", fs::read_symlink(top, ec).string(), top});
        } else if (fs::is_directory(st)) {
            a.insert(a.end(), {"--ro-bind", top, top});
        }
    }
    for (const char* piece : etc_pieces) a.insert(a.end(), {"--ro-bind-try", piece, piece});
    a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--perms", "1777"});
    return a;  // followed by --tmpfs /tmp (and its size)
}

// As root, the job's command runs through setpriv: the job's user and
// group, no supplementary groups, no capabilities left in any set, and no
// new privileges (a set-user-ID program such as /usr/bin/su cannot raise them).
std::vector<std::string> Sandbox::become_args(const std::optional<JobUser>& user) const {
    if (!switch_user_ || !user) return {};
    return {"/usr/bin/setpriv", "--reuid=" + std::to_string(user->uid), "--regid=" + std::to_string(user->gid),
            "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"};
}

std::vector<std::string> Sandbox::probe_argv(const std::string& program, const std::optional<JobUser>& user) const {
    auto a = common_args();
    a.insert(a.end(), {"--tmpfs", "/tmp", "--dir", job_dir, "--chdir", job_dir, "--"});
    auto become = become_args(user);
    a.insert(a.end(), become.begin(), become.end());
    a.push_back(program);
    return a;
}

ChildSpec Sandbox::child(const Kind& kind, int dir_fd, int info_fd) const {
    ChildSpec spec;
    spec.program = bwrap_;
    spec.argv = common_args();
    auto& a = spec.argv;
    // A tmpfs is memory no rlimit counts: as large as the memory limit, if any.
    if (kind.limits.memory_mb) a.insert(a.end(), {"--size", std::to_string(*kind.limits.memory_mb << 20)});
    a.insert(a.end(), {"--tmpfs", "/tmp"});
    if (!kind.network) a.push_back("--unshare-net");
    for (const auto& [path, writable] : kind.binds) a.insert(a.end(), {writable ? "--bind" : "--ro-bind", path, path});
    a.insert(a.end(), {"--bind-fd", std::to_string(dir_fd), job_dir, "--chdir", job_dir, "--info-fd",
                       std::to_string(info_fd), "--"});
    auto become = become_args(user_of(kind));
    a.insert(a.end(), become.begin(), become.end());
    a.insert(a.end(), kind.argv.begin(), kind.argv.end());
    // As root: bwrap as the first process of a PID namespace of our own,
    // tied to the worker from the very start (child_process.hpp says why).
    spec.own_pid_namespace = switch_user_;
    // Inherited by bwrap and everything it starts. RLIMIT_NPROC binds the
    // job's user once setpriv switched to it (root is not held to it).
    spec.limits = kind.limits;
    return spec;
}

}  // namespace drover::worker
