#include "core/sweeps/storage_sweeps.hpp"

#include <spdlog/spdlog.h>

#include <functional>

#include "core/json.hpp"

namespace drover {
namespace {

// Advisory keys of the storage sweeps (sweeps/lock.sql, namespace 1685221239).
enum class Key : int { artifacts = 1, uploads = 2, sessions = 3, eviction = 4 };

std::vector<std::string> column(const db::Result& r, const char* name) {
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, name));
    return out;
}

// Runs `decide` (which returns the blobs whose records it deleted) under the
// sweep's lock, queues what is no longer named, commits, then works off the queue.
SweepCounts sweep(db::Connection& conn, storage::BlobStore& blobs, Key key,
                  const std::function<std::vector<std::string>(SweepCounts&)>& decide) {
    SweepCounts counts;
    db::in_transaction(conn, [&] {
        auto locked = conn.query("sweeps/lock", db::Params().add(static_cast<int>(key)));
        if (!locked.boolean(0, locked.column("locked"))) return;
        counts.ran = true;
        auto touched = decide(counts);
        if (!touched.empty()) {
            counts.blobs = conn.query("sweeps/queue_unreferenced", db::Params().add(touched)).rows();
        }
    });
    counts.files_deleted = DeletionQueue::work_off(conn, blobs);
    return counts;
}

}  // namespace

std::int64_t DeletionQueue::work_off(db::Connection& conn, storage::BlobStore& blobs, int batch) {
    std::int64_t removed = 0;
    auto queued = column(conn.query("sweeps/queued_deletions", db::Params().add(batch)), "sha256");
    for (const auto& sha256 : queued) {
        db::in_transaction(conn, [&] {
            auto r = conn.query("sweeps/lock_content", db::Params().add(sha256));
            // Named again (stored again since it was queued): the file stays.
            if (!r.boolean(0, r.column("named")) && blobs.remove(sha256)) ++removed;
            conn.query("sweeps/dequeue_deletion", db::Params().add(sha256));
        });
    }
    return removed;
}

SweepCounts ArtifactExpiry::run_once(db::Connection& conn, storage::BlobStore& blobs,
                                     const std::optional<std::string>& now, int batch) {
    return sweep(conn, blobs, Key::artifacts, [&](SweepCounts& c) {
        auto r = conn.query("sweeps/expire_artifacts", db::Params().add(now).add(batch));
        c.records = r.rows();
        return column(r, "sha256");
    });
}

SweepCounts UploadCleanup::run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t grace_s,
                                    const std::optional<std::string>& now, int batch) {
    return sweep(conn, blobs, Key::uploads, [&](SweepCounts& c) {
        auto r = conn.query("sweeps/remove_unused_uploads", db::Params().add(now).add(grace_s).add(batch));
        c.records = r.rows();
        return column(r, "sha256");
    });
}

SweepCounts SessionExpiry::run_once(db::Connection& conn, storage::BlobStore& blobs,
                                    const std::optional<std::string>& now, int batch) {
    std::vector<std::string> expired;
    auto counts = sweep(conn, blobs, Key::sessions, [&](SweepCounts& c) {
        auto r = conn.query("sweeps/expire_upload_sessions", db::Params().add(now).add(batch));
        c.records = r.rows();
        expired = column(r, "id");
        return std::vector<std::string>{};
    });
    // Part files are no blobs: removed right after the commit. A crash before
    // leaves a folder with no session row, which the next run removes (below).
    for (const auto& id : expired) {
        std::error_code ignored;
        std::filesystem::remove_all(blobs.root() / "sessions" / id, ignored);
    }
    if (counts.ran) {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(blobs.root() / "sessions", ec)) {
            auto name = e.path().filename().string();
            if (name.find_first_not_of("0123456789") != std::string::npos || name.empty()) continue;
            auto r = conn.query("uploads/session_exists", db::Params().add(static_cast<std::int64_t>(std::stoll(name))));
            if (r.empty()) {
                std::error_code ignored;
                std::filesystem::remove_all(e.path(), ignored);
            }
        }
    }
    return counts;
}

SweepCounts StorageEviction::run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t threshold_bytes,
                                      std::int64_t target_bytes) {
    return sweep(conn, blobs, Key::eviction, [&](SweepCounts& c) {
        auto r = conn.query("sweeps/evict_lru", db::Params().add(threshold_bytes).add(target_bytes));
        c.records = r.rows();
        return column(r, "sha256");
    });
}

std::string sweep_counts_to_json(const SweepCounts& counts) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("ran");
    w.Bool(counts.ran);
    w.Key("records");
    w.Int64(counts.records);
    w.Key("blobs");
    w.Int64(counts.blobs);
    w.Key("files_deleted");
    w.Int64(counts.files_deleted);
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace drover
