#pragma once
// The storage sweeps. Each is a class with run_once(now) returning counts;
// the SQL decides (sql/queries/sweeps/), the code deletes files:
//  1. one transaction, under the sweep's advisory lock (one runner across
//     all hosts; a second one returns ran = false at once): delete the
//     records that must go, then the blob rows nothing names any more,
//     queueing their files in drover.storage_deletions;
//  2. after the commit, drain the queue (DeletionQueue): per file, under
//     the content's advisory lock and only while no blob row names it, remove
//     the file, then its queue row.
// A crash between 1 and 2 leaves queue rows that the next run of any sweep
// works off; running a sweep twice finds nothing the second time.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/db/connection.hpp"
#include "core/storage/blob_store.hpp"

namespace drover {

struct SweepCounts {
    bool ran = false;                 // false: another process holds this sweep's lock
    std::int64_t records = 0;         // records deleted (artifacts, uploads, sessions)
    std::int64_t blobs = 0;           // blob rows deleted and their files queued
    std::int64_t files_deleted = 0;   // files removed from the queue (this run's and older)
};

// Removes queued files, 100 per transaction; returns how many.
class DeletionQueue {
public:
    // At most `batch` of them.
    static std::int64_t work_off(db::Connection& conn, storage::BlobStore& blobs, int batch = 1000);
    // `batch` at a time until the queue is empty (what every sweep run does).
    static std::int64_t drain(db::Connection& conn, storage::BlobStore& blobs, int batch = 1000);

private:
    struct Round {
        std::int64_t taken = 0;    // queue rows read (all dequeued)
        std::int64_t removed = 0;  // files removed
    };
    static Round work_off_counted(db::Connection& conn, storage::BlobStore& blobs, int batch);
};

// Artifacts past their retention.
class ArtifactExpiry {
public:
    static SweepCounts run_once(db::Connection& conn, storage::BlobStore& blobs,
                                const std::optional<std::string>& now = std::nullopt, int batch = 1000,
                                bool dry_run = false);
};

// Uploads no pending or running job needs, unused for `grace_s`; never whitelisted ones.
class UploadCleanup {
public:
    static SweepCounts run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t grace_s,
                                const std::optional<std::string>& now = std::nullopt, int batch = 1000,
                                bool dry_run = false);
};

// Parted uploads past their expiry, with their part files.
class SessionExpiry {
public:
    static SweepCounts run_once(db::Connection& conn, storage::BlobStore& blobs,
                                const std::optional<std::string>& now = std::nullopt, int batch = 1000,
                                bool dry_run = false);
};

// When stored bytes pass threshold_bytes, least recently used blobs go until
// usage is at most target_bytes; whitelisted uploads and uploads needed by
// pending or running jobs are spared.
class StorageEviction {
public:
    static SweepCounts run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t threshold_bytes,
                                std::int64_t target_bytes, bool dry_run = false);
};

// Finished jobs older than `retention_s`, with their log lines and artifacts.
class JobPruner {
public:
    static SweepCounts run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t retention_s,
                                const std::optional<std::string>& now = std::nullopt, int batch = 1000,
                                bool dry_run = false);
};

// Files and rows that disagree: blob rows nothing names (queued), files on
// disk no row names and temp files, older than `min_age_s` (removed), rows
// whose file is missing (their records and row deleted, as `records`).
class Reconciler {
public:
    static SweepCounts run_once(db::Connection& conn, storage::BlobStore& blobs, std::int64_t min_age_s = 3600,
                                bool dry_run = false);
};

// Every storage sweep with its settings, for the worker's sweeper and `drover sweep`.
struct StorageSweepSettings {
    std::filesystem::path storage_root;
    std::int64_t max_storage_bytes = 0;  // 0: no cap, so no eviction
    int eviction_threshold_percent = 95;
    int eviction_target_percent = 60;
    std::int64_t upload_grace_s = 3600;
    std::int64_t job_retention_s = 0;  // 0: finished jobs are kept

    static StorageSweepSettings from(const Config& config);
};

// The sweeps' names, in the order they run: jobs, artifacts, uploads, sessions, eviction, reconcile.
const std::vector<std::string>& storage_sweep_names();
// Runs the named sweeps (all when `names` is empty; throws InputError for an
// unknown name); dry_run: decides and counts, then rolls back and deletes nothing.
std::vector<std::pair<std::string, SweepCounts>> run_storage_sweeps(db::Connection& conn,
                                                                    const StorageSweepSettings& settings,
                                                                    const std::vector<std::string>& names = {},
                                                                    bool dry_run = false);

// The JSON summary of a sweep's counts: {"ran", "records", "blobs", "files_deleted"}.
std::string sweep_counts_to_json(const SweepCounts& counts);

}  // namespace drover
