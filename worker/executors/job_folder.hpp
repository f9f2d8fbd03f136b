#pragma once
// The working folder a command job runs in: args.json, inbound/, outbound/.
// Each runner thread keeps one for all the jobs it runs
// (<state_dir>/jobs/w<pid>.<runner>-slot<n>/) and empties it after each job,
// instead of creating and removing a tree per job: per job that tree cost
// three mkdirs, a file creation and a remove_all, ~40 % of the worker's own
// CPU in bench/run command_spawn (ext4 inode allocation, evict, truncate).
// Emptying keeps inbound/, outbound/ and args.json (rewritten in place) and
// removes everything else; anything it cannot vouch for (a folder replaced
// by a file or symlink, changed permissions, a failed removal) makes the next
// prepare() rebuild the whole folder, so nothing of one job reaches the next.
#include <filesystem>
#include <string_view>

namespace drover::worker {

class JobFolder {
public:
    explicit JobFolder(std::filesystem::path dir) : dir_(std::move(dir)) {}
    ~JobFolder();
    JobFolder(const JobFolder&) = delete;
    JobFolder& operator=(const JobFolder&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path args_file() const { return dir_ / "args.json"; }
    std::filesystem::path inbound() const { return dir_ / "inbound"; }
    std::filesystem::path outbound() const { return dir_ / "outbound"; }

    // Ready for the next job: empty inbound/ and outbound/, args.json holding
    // `args_json`, nothing else. Throws std::filesystem::filesystem_error or
    // std::runtime_error when it cannot.
    void prepare(std::string_view args_json);
    // Empties it after a job (never throws; a failure leaves it for prepare() to rebuild).
    void clear() noexcept;

private:
    void rebuild();
    std::filesystem::path dir_;
    bool clean_ = false;  // as clear() or rebuild() left it: the three entries, both folders empty
    std::filesystem::perms dir_perms_{};  // as created, to notice a job's chmod
};

}  // namespace drover::worker
