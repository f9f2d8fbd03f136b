#pragma once
// Starting one child process from a threaded worker: a clone that shares the
// worker's memory until exec (as posix_spawn's), or a fork-like clone into a
// PID namespace of its own, then only system calls in the child (no
// allocation, no locks) — its own process group, default signal handling,
// the given fds moved into place and every other fd closed, resource
// limits, the parent-death signal, exec (the job's user is setpriv's
// business, inside the sandbox: sandbox.hpp). posix_spawn itself cannot set
// limits nor the parent-death signal.
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/kinds.hpp"

namespace drover::worker {

struct JobUser {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
};

struct ChildSpec {
    std::string program;  // a path, or a name looked up in the child's PATH
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::vector<std::pair<int, int>> fds;  // (fd in the worker, fd number in the child); others are closed
    std::string chdir;                     // "": stay
    KindLimits limits;
    // Run the program as the first process of a new PID namespace (needs
    // root), with the parent-death signal set before exec and checked against
    // a worker that died first: when the worker dies, the kernel kills the
    // program and every process under it, nested namespaces included.
    // (bwrap's own --die-with-parent is set only once its sandbox is set up:
    // a worker killed meanwhile left the job running.)
    bool own_pid_namespace = false;
};

struct Spawned {
    pid_t pid = -1;  // -1: not started
    int error = 0;   // errno of the failed exec (or of the user switch), when pid is -1
};

// Throws std::system_error when the clone itself fails.
Spawned spawn_child(const ChildSpec& spec);

}  // namespace drover::worker
