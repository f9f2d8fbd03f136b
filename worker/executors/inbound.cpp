#include "worker/executors/inbound.hpp"

#include <memory>
#include <mutex>
#include <optional>

#include "core/db/connection.hpp"
#include "core/error.hpp"
#include "core/storage/blob_store.hpp"

namespace drover::worker {
namespace {

std::mutex settings_mutex;
std::optional<InboundSettings> configured;

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
        archive::extract_zip(blob, inbound, s.limits);
    } catch (...) {
        std::error_code ignored;
        std::filesystem::create_directory(inbound, ignored);
        throw;
    }
}

}  // namespace drover::worker
