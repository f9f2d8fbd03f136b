#pragma once
// The working folders of command jobs.
//
// JobFolder: one attempt's folder, <state_dir>/jobs/<worker>/<job>-<attempt>/,
// created fresh for the attempt (args.json, inbound/, outbound/), mode 0700,
// owned by the job's user, and removed when the attempt ends: nothing of one
// attempt reaches the next, whatever it left or broke. (Reusing one folder
// per runner slot was cheaper — ~40 % of the worker's CPU in bench/run
// command_spawn went to creating and removing trees — but a slot's next job
// then ran where a previous one could leave things; issue 11.) Without the
// sandbox, where a job can read every other job's folder anyway, an attempt
// that left its folder exactly as it got it hands the folder on instead
// (SpareFolders): no inode is made or freed per job.
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
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "worker/executors/child_process.hpp"

namespace drover::worker {

// Folders of finished attempts that left them as they got them, waiting in
// the worker's folder (as .spare-N) for the next attempt. Only for jobs
// without the sandbox, which run as the worker's user and can read every
// job's folder and the worker's own memory: handing such a job a folder
// another attempt used shows it nothing it could not already see. A spare is
// taken by one attempt at a time, so there are never more than the worker
// runs at once.
class SpareFolders {
public:
    explicit SpareFolders(std::filesystem::path dir) : dir_(std::move(dir)) {}
    ~SpareFolders();  // closes their descriptors; the folders go with the worker's folder
    SpareFolders(const SpareFolders&) = delete;
    SpareFolders& operator=(const SpareFolders&) = delete;

    struct Spare {
        std::filesystem::path path;
        int fd;  // O_PATH, the folder's
    };
    std::optional<Spare> take();
    void put(Spare spare);
    // Where the next folder put back goes.
    std::filesystem::path next_path();
    std::size_t size();

private:
    std::filesystem::path dir_;
    std::mutex mutex_;
    std::vector<Spare> spares_;
    std::size_t named_ = 0;
};

class JobFolder {
public:
    // Creates `dir` (removing a leftover of the same name first), or, given
    // spares and no owner, renames a spare to `dir` and rewrites its
    // args.json. Throws std::filesystem::filesystem_error or
    // std::runtime_error when it cannot.
    JobFolder(std::filesystem::path dir, std::string_view args_json, const std::optional<JobUser>& owner,
              SpareFolders* spares = nullptr);
    // Hands the folder to the spares if the attempt left it as it got it,
    // else removes it (never throws). Only once every process of the job is gone.
    ~JobFolder();
    JobFolder(const JobFolder&) = delete;
    JobFolder& operator=(const JobFolder&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    // An O_PATH descriptor of the folder, for bwrap --bind-fd (no path race).
    int fd() const { return fd_; }
    // Whether outbound/ is an empty folder (what most jobs leave), so that
    // nothing needs to read it. A folder that will not be reused loses it
    // at once: its removal is the check.
    bool outbound_is_empty();
    // Exactly what the attempt started with: args.json (one link), empty
    // inbound/ and outbound/, the same modes and owner, no extended attributes.
    bool untouched() const;

private:
    void make_fresh(std::string_view args_json, const std::optional<JobUser>& owner);
    bool reuse_spare(std::string_view args_json);
    std::filesystem::path dir_;
    int fd_ = -1;
    bool outbound_gone_ = false;
    SpareFolders* spares_ = nullptr;
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
