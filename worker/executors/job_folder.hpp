#pragma once
// The working folders of command jobs.
//
// JobFolder: one attempt's folder, <state_dir>/jobs/<worker>/<job>-<attempt>/,
// created fresh for the attempt (args.json, inbound/, outbound/), mode 0700,
// owned by the job's user, and removed when the attempt ends: nothing of one
// attempt reaches the next, whatever it left or broke. (Reusing one folder
// per runner slot was cheaper — ~40 % of the worker's CPU in bench/run
// command_spawn went to creating and removing trees — but a slot's next job
// then ran where a previous one could leave things; issue 11.)
//
// JobFolders: the worker's own folder of attempt folders, jobs/<worker>/,
// and its lock file jobs/<worker>.lock, locked (flock) for the worker's
// whole life. The kernel drops the lock when the worker dies, however it
// dies, so remove_orphans() — run at start, and schedulable as a sweep —
// removes exactly the folders of workers that are gone, on any host sharing
// the folder, without asking the database (whose drover.workers misses a
// live worker while its connection is down).
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "worker/executors/child_process.hpp"

namespace drover::worker {

class JobFolder {
public:
    // Creates `dir` (removing a leftover of the same name first). Throws
    // std::filesystem::filesystem_error or std::runtime_error when it cannot.
    JobFolder(std::filesystem::path dir, std::string_view args_json, const std::optional<JobUser>& owner);
    ~JobFolder();  // removes it (never throws)
    JobFolder(const JobFolder&) = delete;
    JobFolder& operator=(const JobFolder&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    // An O_PATH descriptor of the folder, for bwrap --bind-fd (no path race).
    int fd() const { return fd_; }
    // Removes outbound/ if it is an empty folder (what most jobs leave), and
    // says so: its removal is the check, so nothing needs to read it.
    bool remove_empty_outbound();

private:
    std::filesystem::path dir_;
    int fd_ = -1;
    bool outbound_gone_ = false;
};

// Removes a tree a job may have made hard to remove (folders without
// permissions, as the job's own user); false when something stays.
bool remove_tree(const std::filesystem::path& path) noexcept;

class JobFolders {
public:
    // Takes <root>/<worker>.lock (throws std::runtime_error when another live
    // worker holds it: two workers with one DROVER_WORKER_ID) and creates an
    // empty <root>/<worker>/.
    JobFolders(std::filesystem::path root, const std::string& worker_id);
    ~JobFolders();  // removes the worker's folder and lock file
    JobFolders(const JobFolders&) = delete;
    JobFolders& operator=(const JobFolders&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    // One sweep: removes the folders of workers that are gone (their lock is
    // free) and folders without a lock file older than a minute (left by
    // older versions); returns how many it removed.
    int remove_orphans() noexcept;
    // The folder name of a worker id: [A-Za-z0-9._-] kept, anything else '_'.
    static std::string key_of(const std::string& worker_id);

private:
    std::filesystem::path root_;
    std::filesystem::path dir_;
    std::filesystem::path lock_path_;
    int lock_fd_ = -1;
};

}  // namespace drover::worker
