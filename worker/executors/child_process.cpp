#include "worker/executors/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace drover::worker {
namespace {

struct Limit {
    int resource;
    rlim_t value;
};

// Tells the worker why the child could not exec: in the memory they share
// (shared_error), else through the error pipe.
[[noreturn]] void fail_child(int* shared_error, int error_fd, int error) {
    if (shared_error) {
        *shared_error = error;
    } else {
        ssize_t ignored = ::write(error_fd, &error, sizeof error);
        (void)ignored;
    }
    _exit(127);
}

// Everything the child needs, built before it starts: the child allocates
// nothing and takes no lock.
struct ChildPlan {
    const ChildSpec* spec;
    char* const* argv;
    char* const* envp;
    const Limit* limits;
    int nlimits;
    int highest_target;
    int park_at;
    int* parked;  // the child's scratch; in the worker's own memory when shared, unused by it afterwards
    bool search_path;
    pid_t parent;
    int* shared_error;   // shared memory: where the child puts the errno of a failure (no error pipe)
    int error_write_fd;  // otherwise
    int worker_fd;  // a pidfd of the worker (own_pid_namespace), else -1
};

// The child, from its first instruction to exec: only system calls.
[[noreturn]] void run_child(const ChildPlan& p) {
    const ChildSpec& spec = *p.spec;
    int error_fd = -1;
    if (!p.shared_error) {
        error_fd = fcntl(p.error_write_fd, F_DUPFD_CLOEXEC, p.park_at + static_cast<int>(spec.fds.size()) + 1);
        if (error_fd < 0) _exit(127);
    }
    setpgid(0, 0);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);
    // Park the sources above every target first, so that moving one
    // never overwrites another that is still to be moved.
    for (std::size_t i = 0; i < spec.fds.size(); ++i) {
        p.parked[i] = fcntl(spec.fds[i].first, F_DUPFD_CLOEXEC, p.park_at);
        if (p.parked[i] < 0) fail_child(p.shared_error, error_fd, errno);
    }
    for (std::size_t i = 0; i < spec.fds.size(); ++i) {
        if (dup2(p.parked[i], spec.fds[i].second) < 0) fail_child(p.shared_error, error_fd, errno);  // clears FD_CLOEXEC
    }
    // Whatever else the worker has open (its database sockets, other
    // jobs' pipes) is closed at exec.
    syscall(SYS_close_range, static_cast<unsigned>(p.highest_target + 1), ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
    for (int fd = 0; fd <= p.highest_target; ++fd) {
        bool wanted = false;
        for (auto [from, to] : spec.fds) wanted = wanted || to == fd;
        if (!wanted) ::close(fd);
    }
    if (!spec.chdir.empty() && chdir(spec.chdir.c_str()) != 0) fail_child(p.shared_error, error_fd, errno);
    for (int i = 0; i < p.nlimits; ++i) {
        rlimit l{p.limits[i].value, p.limits[i].value};
        if (setrlimit(p.limits[i].resource, &l) != 0) fail_child(p.shared_error, error_fd, errno);
    }
    // The kernel kills the child when the worker's thread that started
    // it dies, however it dies. Checked against a worker that died first: as PID 1 of a new
    // namespace the child cannot see its parent (getppid() is 0), so
    // through a pidfd of the worker.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (spec.own_pid_namespace) {
        pollfd gone{p.worker_fd, POLLIN, 0};
        if (poll(&gone, 1, 0) != 0) _exit(127);
    } else if (getppid() != p.parent) {
        _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (p.search_path) {
        execvpe(spec.program.c_str(), p.argv, p.envp);
    } else {
        execve(spec.program.c_str(), p.argv, p.envp);
    }
    fail_child(p.shared_error, error_fd, errno);
}

int child_entry(void* plan) { run_child(*static_cast<const ChildPlan*>(plan)); }

// The stack of a child that shares the worker's memory until it execs.
constexpr std::size_t kChildStackBytes = 256u << 10;

// One per thread, mapped at its first spawn and kept: the child is done with
// it when clone returns (CLONE_VFORK). An mmap + munmap per spawn cost ~3 %
// of the worker's CPU in bench/run command_spawn without the sandbox (the
// munmap flushes the TLBs of the worker's other threads).
struct ChildStack {
    void* base = nullptr;
    ~ChildStack() {
        if (base) munmap(base, kChildStackBytes);
    }
    void* get() {
        if (!base) {
            void* p = mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                           -1, 0);
            if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
            base = p;
        }
        return base;
    }
};
thread_local ChildStack child_stack;

// Under AddressSanitizer the child's intercepted calls (sigaction, dup2, …)
// would run the sanitizer's code on memory it shares with the worker: a fork
// there, as before.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kShareMemoryUntilExec = false;
#else
constexpr bool kShareMemoryUntilExec = true;
#endif

}  // namespace

Spawned spawn_child(const ChildSpec& spec) {
    // Everything the child needs is built here: after the clone it may not allocate.
    std::vector<std::string> argv_s = spec.argv;
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s = spec.env;
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    Limit limits[4];
    int nlimits = 0;
    if (spec.limits.memory_mb) limits[nlimits++] = {RLIMIT_AS, static_cast<rlim_t>(*spec.limits.memory_mb) << 20};
    if (spec.limits.cpu_s) limits[nlimits++] = {RLIMIT_CPU, static_cast<rlim_t>(*spec.limits.cpu_s)};
    if (spec.limits.processes) limits[nlimits++] = {RLIMIT_NPROC, static_cast<rlim_t>(*spec.limits.processes)};
    if (spec.limits.open_files) limits[nlimits++] = {RLIMIT_NOFILE, static_cast<rlim_t>(*spec.limits.open_files)};
    int highest_target = -1;
    for (auto [from, to] : spec.fds) highest_target = std::max(highest_target, to);
    std::vector<int> parked(spec.fds.size(), -1);

    const bool share_memory = kShareMemoryUntilExec && !spec.own_pid_namespace;
    // Sharing the worker's memory, the child reports a failed exec in it;
    // otherwise through a pipe that exec closes.
    int shared_error = 0;
    int error_pipe[2] = {-1, -1};
    if (!share_memory && pipe2(error_pipe, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    auto close_error_pipe = [&] {
        for (int& fd : error_pipe) {
            if (fd >= 0) ::close(fd);
            fd = -1;
        }
    };
    ChildPlan plan{&spec,           argv.data(),      envp.data(), limits,        nlimits,
                   highest_target,  std::max(highest_target + 1, 10), parked.data(),
                   spec.program.find('/') == std::string::npos, getpid(),
                   share_memory ? &shared_error : nullptr, error_pipe[1], -1};
    // Without a PID namespace of its own the child shares the worker's memory
    // until it execs (CLONE_VM | CLONE_VFORK, as posix_spawn does, on a stack
    // of its own), instead of a fork's copy of it: forking the threaded
    // worker per job cost ~2 ms of CPU (page tables, then copy-on-write
    // faults in the worker), 0.25 of a bare spawn's rate in bench/run
    // command_spawn without the sandbox.
    void* stack = nullptr;
    if (share_memory) stack = child_stack.get();
    // No signal handler of the worker may run in the child between the clone and exec.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    // own_pid_namespace: the child is PID 1 of a new PID namespace from its
    // first instruction (a raw clone, with fork's copy of the memory; the
    // child then makes only system calls, so glibc's fork bookkeeping is not
    // needed). When it dies, the kernel kills every process of the namespace.
    if (spec.own_pid_namespace) {
        plan.worker_fd = static_cast<int>(syscall(SYS_pidfd_open, plan.parent, 0));  // close-on-exec
        if (plan.worker_fd < 0) {
            int e = errno;
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
            close_error_pipe();
            throw std::system_error(e, std::generic_category(), "pidfd_open");
        }
    }
    pid_t pid;
    if (share_memory) {
        // Returns once the child has exec'd or exited (CLONE_VFORK).
        pid = clone(child_entry, static_cast<char*>(stack) + kChildStackBytes, CLONE_VM | CLONE_VFORK | SIGCHLD,
                    &plan);
    } else if (spec.own_pid_namespace) {
        pid = static_cast<pid_t>(syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, 0));
        if (pid == 0) run_child(plan);
    } else {
        pid = fork();
        if (pid == 0) run_child(plan);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (plan.worker_fd >= 0) ::close(plan.worker_fd);
    if (error_pipe[1] >= 0) ::close(error_pipe[1]);
    error_pipe[1] = -1;
    if (pid < 0) {
        close_error_pipe();
        throw std::system_error(fork_errno, std::generic_category(), "fork");
    }
    // CLONE_VFORK: the child has exec'd or exited by now, its error (if any) written.
    int child_errno = shared_error;
    if (!share_memory) {
        ssize_t n;
        do {
            n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
        } while (n < 0 && errno == EINTR);
        if (n != static_cast<ssize_t>(sizeof child_errno)) child_errno = 0;
    }
    close_error_pipe();
    if (child_errno != 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return {-1, child_errno};
    }
    return {pid, 0};
}

}  // namespace drover::worker
