#include "core/store/api_job_store.hpp"

#include <algorithm>
#include <map>

#include "core/db/embedded_sql.hpp"

namespace drover {

std::vector<Job> ApiJobStore::list(const std::string& app, const JobFilter& f) {
    db::Params p;
    p.add(app).add(f.before_id);
    if (f.statuses.empty()) {
        p.null();
    } else {
        p.add(f.statuses);
    }
    p.add(f.kind).add(f.queue).add(f.created_after).add(f.created_before).add(f.limit);
    // Planned anew for every call (an unnamed statement), not prepared once:
    // which index serves a page depends on the app's share of the table, which
    // a generic plan cannot know (see jobs/list.sql).
    static const std::string text = [] {
        for (const auto& q : sql::embedded_queries()) {
            if (q.name == "jobs/list") return std::string(q.text);
        }
        return std::string();
    }();
    auto r = conn_.exec(text, p);
    std::vector<Job> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) out.push_back(job_from_row(r, i));
    return out;
}

std::optional<Job> ApiJobStore::retry(std::int64_t id, const std::string& app) {
    return db::in_transaction(conn_, [&]() -> std::optional<Job> {
        auto r = conn_.query("jobs/retry", db::Params().add(id).add(app));
        if (r.empty()) return std::nullopt;
        conn_.query("apps/check_room", db::Params().add(app));
        return job_from_row(r, 0);
    });
}

bool ApiJobStore::delete_finished(std::int64_t id, const std::string& app) {
    return !conn_.query("jobs/delete_finished", db::Params().add(id).add(app)).empty();
}

std::vector<std::int64_t> ApiJobStore::insert_batch(const std::vector<NewJob>& jobs) {
    std::vector<std::string> apps, kinds, args, queues;
    std::vector<std::int64_t> priorities, max_attempts;
    std::vector<std::optional<std::string>> run_ats, timeouts, unique_keys;
    for (const auto& j : jobs) {
        apps.push_back(j.app);
        kinds.push_back(j.kind);
        args.push_back(j.args_json);
        queues.push_back(j.queue);
        priorities.push_back(j.priority);
        run_ats.push_back(j.run_at);
        max_attempts.push_back(j.max_attempts);
        timeouts.push_back(j.timeout_s ? std::optional(std::to_string(*j.timeout_s)) : std::nullopt);
        unique_keys.push_back(j.unique_key);
    }
    auto r = conn_.query("jobs/insert_batch", db::Params()
                                                  .add(apps)
                                                  .add(kinds)
                                                  .add(args)
                                                  .add(queues)
                                                  .add(priorities)
                                                  .add(run_ats)
                                                  .add(max_attempts)
                                                  .add(timeouts)
                                                  .add(unique_keys));
    std::vector<std::int64_t> ids(r.rows());
    for (int i = 0; i < r.rows(); ++i) ids[i] = r.int64(i, 0);
    return ids;
}

std::optional<std::size_t> ApiJobStore::attach_uploads(const std::vector<std::int64_t>& ids,
                                                       const std::vector<NewJob>& jobs) {
    std::vector<std::optional<std::string>> uploads;
    for (const auto& j : jobs) uploads.push_back(j.upload_id ? std::optional(std::to_string(*j.upload_id)) : std::nullopt);
    if (std::none_of(uploads.begin(), uploads.end(), [](const auto& u) { return u.has_value(); })) return std::nullopt;
    auto r = conn_.query("uploads/attach_batch", db::Params().add(ids).add(uploads));
    std::vector<bool> attached(jobs.size(), false);
    for (int i = 0; i < r.rows(); ++i) attached[static_cast<std::size_t>(r.int64(i, 0) - 1)] = true;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i].upload_id && !attached[i]) return i;
    }
    return std::nullopt;
}

std::vector<QueueStats> ApiJobStore::queue_stats(const std::string& app) {
    auto r = conn_.query("jobs/queue_stats", db::Params().add(app));
    std::vector<QueueStats> out;
    for (int i = 0; i < r.rows(); ++i) {
        QueueStats q;
        q.queue = std::string(r.text(i, "queue"));
        q.pending = r.int64(i, "pending");
        q.running = r.int64(i, "running");
        q.succeeded = r.int64(i, "succeeded");
        q.failed = r.int64(i, "failed");
        q.cancelled = r.int64(i, "cancelled");
        int age = r.column("oldest_pending_age_s");
        if (!r.is_null(i, age)) q.oldest_pending_age_s = std::stod(std::string(r.text(i, age)));
        q.concurrency = r.optional_int64(i, r.column("concurrency"));
        out.push_back(std::move(q));
    }
    return out;
}

}  // namespace drover
