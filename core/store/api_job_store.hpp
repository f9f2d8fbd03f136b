#pragma once
// The API's own job reads and writes beyond JobStore's (which the worker
// shares): the listing, retry, delete, batch insert and queue summaries,
// through sql/queries/jobs/{list,retry,delete_finished,insert_batch}.sql and
// jobs/queue_stats.sql. Every method acts for one app and sees only its jobs.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/db/connection.hpp"
#include "core/job.hpp"

namespace drover {

struct JobFilter {
    std::optional<std::int64_t> before_id;  // keyset cursor: ids below this one
    std::vector<std::string> statuses;      // empty: any
    std::optional<std::string> kind;
    std::optional<std::string> queue;
    std::optional<std::string> created_after;   // RFC 3339
    std::optional<std::string> created_before;  // RFC 3339
    int limit = 50;
};

struct QueueStats {
    std::string queue;
    std::int64_t pending = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
    std::optional<double> oldest_pending_age_s;  // of a pending job already due
    std::optional<std::int64_t> concurrency;     // drover.queue_limits; none: unlimited
};

class ApiJobStore {
public:
    explicit ApiJobStore(db::Connection& conn) : conn_(conn) {}

    std::vector<Job> list(const std::string& app, const JobFilter& filter);
    // A failed or cancelled job runs again; nothing when unknown or in another state.
    // Opens its own transaction: refused (DR429) past the app's max_unfinished_jobs.
    std::optional<Job> retry(std::int64_t id, const std::string& app);
    // Removes a finished job and its log lines; false when unknown or unfinished.
    bool delete_finished(std::int64_t id, const std::string& app);
    // Inserts all the jobs in one statement (in the caller's transaction, or
    // its own); returns their ids in order. A unique_key that matches an
    // unfinished job fails the statement (23505): a batch does not dedup.
    std::vector<std::int64_t> insert_batch(const std::vector<NewJob>& jobs);
    // Attaches the just inserted jobs `ids` to the uploads `jobs` name
    // (uploads/attach_batch.sql); returns the index of the first job whose
    // upload is unknown or another app's (the caller rolls back), or nothing.
    std::optional<std::size_t> attach_uploads(const std::vector<std::int64_t>& ids, const std::vector<NewJob>& jobs);
    std::vector<QueueStats> queue_stats(const std::string& app);

private:
    db::Connection& conn_;
};

}  // namespace drover
