#include "core/sweeps/storage_sweeps.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"

namespace drover {
namespace {

// Advisory keys of the storage sweeps (sweeps/lock.sql, namespace 1685221239).
enum class Key : int { artifacts = 1, uploads = 2, sessions = 3, eviction = 4, jobs = 5, reconcile = 6 };

std::vector<std::string> column(const db::Result& r, const char* name) {
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, name));
    return out;
}

// Runs `decide` (which returns the blobs whose records it deleted) under the
// sweep's lock, queues what is no longer named, commits, then works off the queue.
struct DryRun {};  // thrown to roll a dry run's transaction back

SweepCounts sweep(db::Connection& conn, storage::BlobStore& blobs, Key key,
                  const std::function<std::vector<std::string>(SweepCounts&)>& decide, bool dry_run) {
    SweepCounts counts;
    try {
        db::in_transaction(conn, [&] {
            auto locked = conn.query("sweeps/lock", db::Params().add(static_cast<int>(key)));
            if (!locked.boolean(0, locked.column("locked"))) return;
            counts.ran = true;
            auto touched = decide(counts);
            if (!touched.empty()) {
                counts.blobs = conn.query("sweeps/queue_unreferenced", db::Params().add(touched)).rows();
            }
            if (dry_run) throw DryRun{};
        });
    } catch (const DryRun&) {
        return counts;
    }
    counts.files_deleted = DeletionQueue::drain(conn, blobs);
    return counts;
}

}  // namespace

std::int64_t DeletionQueue::work_off(db::Connection& conn, storage::BlobStore& blobs, int batch) {
    return work_off_counted(conn, blobs, batch).removed;
}

std::int64_t DeletionQueue::drain(db::Connection& conn, storage::BlobStore& blobs, int batch) {
    // Every row a round reads is dequeued (or the round throws), so each round
    // makes progress; a round that read less than `batch` found the queue
    // empty. A second sweeper draining at the same time waits on the same
    // content locks, then finds those rows gone: harmless, as before.
    std::int64_t removed = 0;
    for (;;) {
        auto round = work_off_counted(conn, blobs, batch);
        removed += round.removed;
        if (round.taken < batch) return removed;
    }
}

DeletionQueue::Round DeletionQueue::work_off_counted(db::Connection& conn, storage::BlobStore& blobs, int batch) {
    std::int64_t removed = 0;
    auto queued = column(conn.query("sweeps/queued_deletions", db::Params().add(batch)), "sha256");
    // A group of files per transaction, three statements a group: one
    // commit (an fsync of the WAL) and a few round trips per 100 files, not
    // per file (bench/files). A group that fails after removing some files
    // leaves their queue rows, which the next round finds with no file and drops.
    constexpr std::size_t group = 100;
    for (std::size_t from = 0; from < queued.size(); from += group) {
        std::vector<std::string> some(queued.begin() + static_cast<std::ptrdiff_t>(from),
                                      queued.begin() + static_cast<std::ptrdiff_t>(std::min(queued.size(), from + group)));
        db::in_transaction(conn, [&] {
            conn.query("sweeps/lock_contents", db::Params().add(some));
            // Asked after the locks are held: named again (stored again since
            // it was queued) means the file stays.
            auto rows = column(conn.query("sweeps/named_contents", db::Params().add(some)), "sha256");
            std::set<std::string> named(rows.begin(), rows.end());
            for (const auto& sha256 : some) {
                if (!named.count(sha256) && blobs.remove(sha256)) ++removed;
            }
            conn.query("sweeps/dequeue_deletions", db::Params().add(some));
        });
    }
    return {static_cast<std::int64_t>(queued.size()), removed};
}

SweepCounts ArtifactExpiry::run_once(db::Connection& conn, storage::BlobStore& blobs,
                                     const std::optional<std::string>& now, int batch, bool dry_run) {
    return sweep(
        conn, blobs, Key::artifacts,
        [&](SweepCounts& c) {
            auto r = conn.query("sweeps/expire_artifacts", db::Params().add(now).add(batch));
            c.records = r.rows();
            return column(r, "sha256");
        },
        dry_run);
}

SweepCounts UploadCleanup::run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t grace_s,
                                    const std::optional<std::string>& now, int batch, bool dry_run) {
    return sweep(
        conn, blobs, Key::uploads,
        [&](SweepCounts& c) {
            auto r = conn.query("sweeps/remove_unused_uploads", db::Params().add(now).add(grace_s).add(batch));
            c.records = r.rows();
            return column(r, "sha256");
        },
        dry_run);
}

SweepCounts SessionExpiry::run_once(db::Connection& conn, storage::BlobStore& blobs,
                                    const std::optional<std::string>& now, int batch, bool dry_run) {
    std::vector<std::string> expired;
    auto counts = sweep(
        conn, blobs, Key::sessions,
        [&](SweepCounts& c) {
            auto r = conn.query("sweeps/expire_upload_sessions", db::Params().add(now).add(batch));
            c.records = r.rows();
            expired = column(r, "id");
            return std::vector<std::string>{};
        },
        dry_run);
    if (dry_run) return counts;
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
                                      std::int64_t target_bytes, bool dry_run) {
    return sweep(
        conn, blobs, Key::eviction,
        [&](SweepCounts& c) {
            auto r = conn.query("sweeps/evict_lru", db::Params().add(threshold_bytes).add(target_bytes));
            c.records = r.rows();
            return column(r, "sha256");
        },
        dry_run);
}

SweepCounts JobPruner::run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t retention_s,
                                const std::optional<std::string>& now, int batch, bool dry_run) {
    return sweep(
        conn, blobs, Key::jobs,
        [&](SweepCounts& c) {
            auto r = conn.query("sweeps/prune_jobs", db::Params().add(now).add(retention_s).add(batch));
            std::vector<std::string> touched;
            for (int i = 0; i < r.rows(); ++i) {
                auto what = r.text(i, "what");
                if (what == "job") ++c.records;
                if (what == "blob") touched.emplace_back(r.text(i, "value"));
            }
            return touched;
        },
        dry_run);
}

SweepCounts Reconciler::run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t min_age_s,
                                 bool dry_run) {
    // Blob rows nothing names: queued like any sweep's.
    auto counts = sweep(
        conn, blobs, Key::reconcile,
        [&](SweepCounts&) {
            return column(conn.query("sweeps/orphan_blobs", db::Params().add(min_age_s).add(10000)), "sha256");
        },
        dry_run);
    if (!counts.ran) return counts;
    auto rows = column(conn.query("sweeps/all_blobs"), "sha256");
    std::set<std::string> named(rows.begin(), rows.end());
    auto cutoff = std::filesystem::file_time_type::clock::now() - std::chrono::seconds(min_age_s);
    // Files no row names (a crash between rename and commit), old enough not
    // to be an upload still committing.
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(blobs.root() / "blobs", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        auto sha256 = it->path().filename().string();
        std::error_code age_ec;
        if (named.count(sha256) || sha256.size() != 64 || it->last_write_time(age_ec) > cutoff || age_ec) continue;
        if (dry_run) {
            ++counts.files_deleted;
            continue;
        }
        db::in_transaction(conn, [&] {
            // Named is asked after the lock is held (a statement of its own:
            // a row committed while this one waited is seen).
            std::vector<std::string> one{sha256};
            conn.query("sweeps/lock_contents", db::Params().add(one));
            if (conn.query("sweeps/named_contents", db::Params().add(one)).empty() && blobs.remove(sha256)) {
                ++counts.files_deleted;
            }
        });
    }
    // Rows whose file is gone: nothing can serve them.
    for (const auto& sha256 : rows) {
        if (blobs.exists(sha256)) continue;
        if (dry_run) {
            ++counts.records;
            continue;
        }
        db::in_transaction(conn, [&] {
            conn.query("sweeps/lock_contents", db::Params().add(std::vector<std::string>{sha256}));  // no store in flight
            if (blobs.exists(sha256)) return;
            auto r = conn.query("sweeps/forget_missing_blob", db::Params().add(sha256));
            counts.records += r.int64(0, "records");
            spdlog::warn("reconcile: the file of blob {} is missing; its records were deleted", sha256);
        });
    }
    if (!dry_run) counts.files_deleted += static_cast<std::int64_t>(blobs.remove_stale_temp_files(std::chrono::seconds(min_age_s)));
    return counts;
}

StorageSweepSettings StorageSweepSettings::from(const Config& config) {
    StorageSweepSettings s;
    s.storage_root = storage::storage_root(config);
    s.max_storage_bytes = config.integer("max_storage_bytes");
    s.eviction_threshold_percent = static_cast<int>(config.integer("eviction_threshold_percent"));
    s.eviction_target_percent = static_cast<int>(config.integer("eviction_target_percent"));
    s.upload_grace_s = config.integer("upload_grace_s");
    s.job_retention_s = config.integer("job_retention_s");
    if (s.eviction_threshold_percent < 1 || s.eviction_threshold_percent > 100 || s.eviction_target_percent < 0 ||
        s.eviction_target_percent > s.eviction_threshold_percent) {
        throw ConfigError("DROVER_EVICTION_TARGET_PERCENT must be from 0 to DROVER_EVICTION_THRESHOLD_PERCENT, "
                          "which must be from 1 to 100");
    }
    return s;
}

const std::vector<std::string>& storage_sweep_names() {
    static const std::vector<std::string> names = {"jobs", "artifacts", "uploads", "sessions", "eviction", "reconcile"};
    return names;
}

std::vector<std::pair<std::string, SweepCounts>> run_storage_sweeps(db::Connection& conn,
                                                                    const StorageSweepSettings& settings,
                                                                    const std::vector<std::string>& names,
                                                                    bool dry_run) {
    for (const auto& n : names) {
        const auto& all = storage_sweep_names();
        if (std::find(all.begin(), all.end(), n) == all.end()) {
            throw InputError(InputError::Kind::invalid, "unknown_sweep",
                             "no sweep named '" + n + "' (jobs, artifacts, uploads, sessions, eviction, reconcile)",
                             "name");
        }
    }
    storage::BlobStore blobs(settings.storage_root);
    std::vector<std::pair<std::string, SweepCounts>> out;
    for (const auto& name : storage_sweep_names()) {
        if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
        SweepCounts c;
        if (name == "jobs" && settings.job_retention_s > 0) {
            c = JobPruner::run_once(conn, blobs, settings.job_retention_s, std::nullopt, 1000, dry_run);
        }
        if (name == "reconcile") c = Reconciler::run_once(conn, blobs, 3600, dry_run);
        if (name == "artifacts") c = ArtifactExpiry::run_once(conn, blobs, std::nullopt, 1000, dry_run);
        if (name == "uploads") c = UploadCleanup::run_once(conn, blobs, settings.upload_grace_s, std::nullopt, 1000, dry_run);
        if (name == "sessions") c = SessionExpiry::run_once(conn, blobs, std::nullopt, 1000, dry_run);
        if (name == "eviction" && settings.max_storage_bytes > 0) {
            c = StorageEviction::run_once(conn, blobs, settings.max_storage_bytes / 100 * settings.eviction_threshold_percent,
                                          settings.max_storage_bytes / 100 * settings.eviction_target_percent, dry_run);
        }
        out.emplace_back(name, c);
    }
    return out;
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
