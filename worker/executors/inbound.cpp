#include "worker/executors/inbound.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>
#include <mutex>
#include <optional>

#include "core/db/connection.hpp"
#include "core/error.hpp"
#include "core/storage/blob_store.hpp"

extern char** environ;

namespace drover::worker {
namespace {

std::mutex settings_mutex;
std::optional<InboundSettings> configured;

// drover-unzip, next to this program (worker/unzip_main.cpp): libarchive is
// not loaded into the worker. Its stderr says why it failed.
void unzip(const std::filesystem::path& zip, const std::filesystem::path& destination,
           const archive::ZipLimits& limits) {
    auto helper = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "drover-unzip";
    std::vector<std::string> args = {helper.string(), zip.string(), destination.string(),
                                     std::to_string(limits.max_entries),
                                     std::to_string(limits.max_uncompressed_bytes)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int err[2];
    if (::pipe2(err, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(err[1]);
    if (spawned != 0) {
        ::close(err[0]);
        throw Error("cannot start " + helper.string() + ": " + std::strerror(spawned));
    }
    std::string message;
    char buf[4096];
    for (;;) {
        auto n = ::read(err[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (message.size() < 4096) message.append(buf, static_cast<std::size_t>(n));
    }
    ::close(err[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw Error("unpacking the upload failed: " + (message.empty() ? "drover-unzip exited abnormally" : message));
}

}  // namespace

InboundSettings job_files_settings() {
    std::lock_guard lock(settings_mutex);
    if (!configured) throw Error("this worker has no storage configured");
    return *configured;
}

db::Connection& job_files_connection(const std::string& database_url) {
    thread_local std::unique_ptr<db::Connection> conn;
    if (!conn || conn->broken()) conn = std::make_unique<db::Connection>(database_url, "drover-worker-files");
    return *conn;
}

void configure_inbound(InboundSettings s) {
    std::lock_guard lock(settings_mutex);
    configured = std::move(s);
}

void stage_inbound(const ClaimedJob& job, const std::filesystem::path& inbound) {
    if (!job.upload_id) return;
    auto s = job_files_settings();
    auto r = job_files_connection(s.database_url).query("uploads/sha256_of", db::Params().add(*job.upload_id));
    if (r.empty()) throw Error("upload " + std::to_string(*job.upload_id) + " no longer exists");
    std::string sha256(r.text(0, "sha256"));
    storage::BlobStore blobs(s.storage_root);
    auto blob = blobs.path_of(sha256);
    if (!std::filesystem::exists(blob)) throw Error("the file of upload " + std::to_string(*job.upload_id) + " is missing");
    // prepare() left inbound/ empty; extract_zip wants a destination that
    // does not exist, and renames its temporary folder to it when complete.
    std::filesystem::remove(inbound);
    try {
        unzip(blob, inbound, s.limits);
    } catch (...) {
        std::error_code ignored;
        std::filesystem::create_directory(inbound, ignored);
        throw;
    }
}

}  // namespace drover::worker
