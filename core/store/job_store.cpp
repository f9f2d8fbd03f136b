#include "core/store/job_store.hpp"

#include <algorithm>
#include <tuple>

namespace drover {
namespace {

std::vector<std::int64_t> ids_of(const db::Result& r) {
    std::vector<std::int64_t> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.int64(i, 0));
    return out;
}

const char* outcome_name(Outcome::Type t) {
    switch (t) {
        case Outcome::Type::succeeded: return "succeeded";
        case Outcome::Type::failed: return "failed";
        case Outcome::Type::retry: return "retry";
        case Outcome::Type::cancelled: return "cancelled";
        case Outcome::Type::snooze: return "snooze";
        case Outcome::Type::release: return "release";
    }
    return "failed";
}

// $1-$5 of jobs/claim and jobs/claim_kind.
db::Params claim_base_params(const std::string& owner, const std::string& queue, int limit, int lease_s,
                             const std::optional<std::string>& now) {
    return db::Params().add(owner).add(queue).add(limit).add(lease_s).add(now);
}

db::Params claim_params(const std::string& owner, const std::string& queue, int limit, int lease_s,
                        const std::optional<std::string>& now, const std::optional<ClaimPosition>& after,
                        const std::vector<std::string>& skip_kinds,
                        const std::optional<int>& idle_slots = std::nullopt) {
    auto p = claim_base_params(owner, queue, limit, lease_s, now);
    if (after) {
        p.add(after->priority).add(after->run_at).add(after->id);
    } else {
        p.null().null().null();
    }
    p.add(skip_kinds);
    if (idle_slots) {
        p.add(*idle_slots);
    } else {
        p.null();
    }
    return p;
}

// Room left under a limit row (none: unlimited) with `running` jobs counted.
int room(const db::Result& limit_row, const db::Result& running, int wanted) {
    if (limit_row.empty()) return wanted;
    return static_cast<int>(std::clamp<std::int64_t>(limit_row.int64(0, 0) - running.int64(0, 0), 0, wanted));
}

std::vector<std::string> texts(const db::Result& r) {
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0));
    return out;
}

std::vector<ClaimedJob> claimed_jobs(const db::Result& r) {
    std::vector<ClaimedJob> out(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
        auto& c = out[i];
        c.id = r.int64(i, 0);
        c.kind = r.text(i, 1);
        c.queue = r.text(i, 2);
        c.args_json = r.text(i, 3);
        c.attempt = static_cast<int>(r.int64(i, 4));
        c.max_attempts = static_cast<int>(r.int64(i, 5));
        c.timeout_s = r.optional_int64(i, 6);
        c.priority = static_cast<int>(r.int64(i, 7));
        c.run_at = r.text(i, 8);
        c.upload_id = r.optional_int64(i, 9);
    }
    return out;
}

db::Params complete_params(const std::string& owner, const std::vector<Outcome>& outcomes,
                           const std::optional<std::string>& now) {
    std::vector<std::int64_t> ids, attempts;
    std::vector<std::string> types;
    std::vector<std::optional<std::string>> results, errors, snoozes, retry_ins;
    for (const auto& o : outcomes) {
        ids.push_back(o.id);
        attempts.push_back(o.attempt);
        types.emplace_back(outcome_name(o.type));
        results.push_back(o.result_json);
        errors.push_back(o.error);
        snoozes.push_back(o.snooze_s ? std::optional(std::to_string(*o.snooze_s)) : std::nullopt);
        retry_ins.push_back(o.retry_in_s ? std::optional(std::to_string(*o.retry_in_s)) : std::nullopt);
    }
    return db::Params().add(owner).add(ids).add(types).add(results).add(errors).add(now).add(snoozes).add(attempts).add(
        retry_ins);
}

db::Params append_logs_params(const std::string& owner, const std::vector<LogLine>& lines) {
    std::vector<std::int64_t> ids, attempts;
    std::vector<std::string> streams, times, texts;
    for (const auto& l : lines) {
        ids.push_back(l.job_id);
        attempts.push_back(l.attempt);
        streams.push_back(l.stream);
        times.push_back(l.at);
        texts.push_back(l.line);
    }
    return db::Params().add(owner).add(ids).add(attempts).add(streams).add(times).add(texts);
}

db::Params set_progress_params(const std::string& owner, const std::vector<Progress>& progress) {
    std::vector<std::int64_t> ids;
    std::vector<std::optional<std::string>> percents, messages;
    for (const auto& p : progress) {
        ids.push_back(p.id);
        percents.push_back(p.percent ? std::optional(std::to_string(*p.percent)) : std::nullopt);
        messages.push_back(p.message);
    }
    return db::Params().add(owner).add(ids).add(percents).add(messages);
}

}  // namespace

JobStore::Inserted JobStore::insert(const NewJob& j) {
    auto r = conn_.query("jobs/insert", db::Params()
                                            .add(j.app)
                                            .add(j.kind)
                                            .add(j.args_json)
                                            .add(j.queue)
                                            .add(j.priority)
                                            .add(j.run_at)
                                            .add(j.max_attempts)
                                            .add(j.timeout_s)
                                            .add(j.unique_key));
    return {job_from_row(r, 0), r.boolean(0, r.column("created"))};
}

std::optional<Job> JobStore::get(std::int64_t id, const std::string& app) {
    auto r = conn_.query("jobs/get", db::Params().add(id).add(app));
    if (r.empty()) return std::nullopt;
    return job_from_row(r, 0);
}

std::vector<ClaimedJob> JobStore::claim(const std::string& owner, const std::string& queue, int limit, int lease_s,
                                        const std::optional<std::string>& now,
                                        const std::optional<ClaimPosition>& after,
                                        const std::vector<std::string>& skip_kinds) {
    auto results = conn_.pipeline({{"session/generic_plans", {}},
                                   {"session/async_commit", {}},
                                   {"jobs/claim", claim_params(owner, queue, limit, lease_s, now, after, skip_kinds)}});
    return claimed_jobs(results[2]);
}

std::vector<ClaimedJob> JobStore::claim_limited(const std::string& owner, const std::string& queue, int limit,
                                                int lease_s, const std::vector<std::string>& skip_kinds) {
    return db::in_transaction(conn_, [&] {
        auto locked = conn_.query("jobs/lock_queue_limit", db::Params().add(queue));
        if (!locked.empty()) limit = room(locked, conn_.query("jobs/queue_running", db::Params().add(queue)), limit);
        if (limit == 0) return std::vector<ClaimedJob>{};
        return claim(owner, queue, limit, lease_s, std::nullopt, std::nullopt, skip_kinds);
    });
}

std::vector<std::string> JobStore::limited_queues() { return texts(conn_.query("jobs/limited_queues")); }

void JobStore::set_queue_limit(const std::string& queue, int concurrency) {
    conn_.query("jobs/set_queue_limit", db::Params().add(queue).add(concurrency));
}

std::vector<ClaimedJob> JobStore::claim_kind(const std::string& owner, const std::string& kind,
                                             const std::string& queue, int limit, int lease_s) {
    return db::in_transaction(conn_, [&] {
        // The kind's row, then the queue's: one order for every claim, so
        // none can deadlock. The server runs a pipeline in order, so the
        // counts still come after both locks (see jobs/lock_queue_limit).
        auto r = conn_.pipeline({{"jobs/lock_kind_limit", db::Params().add(kind)},
                                 {"jobs/lock_queue_limit", db::Params().add(queue)},
                                 {"jobs/kind_running", db::Params().add(kind)},
                                 {"jobs/queue_running", db::Params().add(queue)}});
        limit = room(r[1], r[3], room(r[0], r[2], limit));
        if (limit == 0) return std::vector<ClaimedJob>{};
        auto claimed =
            conn_.pipeline({{"session/async_commit", {}},
                            {"jobs/claim_kind", claim_base_params(owner, queue, limit, lease_s, std::nullopt).add(kind)}});
        return claimed_jobs(claimed[1]);
    });
}

std::vector<std::string> JobStore::limited_kinds() {
    return texts(conn_.query("jobs/limited_kinds"));
}

std::vector<std::string> JobStore::limited_kinds_due(const std::string& queue, const std::vector<std::string>& kinds) {
    return texts(conn_.query("jobs/limited_kinds_due", db::Params().add(queue).add(kinds)));
}

void JobStore::set_kind_limit(const std::string& kind, int concurrency) {
    conn_.query("jobs/set_kind_limit", db::Params().add(kind).add(concurrency));
}

std::vector<LimitChange> JobStore::declare_limits(const std::map<std::string, int>& kind_limits,
                                                  const std::map<std::string, int>& queue_limits) {
    auto params = [](const std::map<std::string, int>& limits) {
        std::vector<std::string> names;
        std::vector<std::int64_t> values;
        for (const auto& [name, concurrency] : limits) {
            names.push_back(name);
            values.push_back(concurrency);
        }
        return db::Params().add(names).add(values);
    };
    return db::in_transaction(conn_, [&] {
        std::vector<LimitChange> out;
        for (const auto& [scope, query, limits] :
             {std::tuple{"kind", "jobs/declare_kind_limits", &kind_limits},
              std::tuple{"queue", "jobs/declare_queue_limits", &queue_limits}}) {
            auto r = conn_.query(query, params(*limits));
            for (int i = 0; i < r.rows(); ++i) {
                out.push_back({scope, std::string(r.text(i, 0)), std::string(r.text(i, 1)), r.optional_int64(i, 2),
                               r.optional_int64(i, 3)});
            }
        }
        return out;
    });
}

std::vector<std::int64_t> JobStore::complete_many(const std::string& owner, const std::vector<Outcome>& outcomes,
                                                  const std::optional<std::string>& now) {
    return ids_of(conn_.query("jobs/complete_many", complete_params(owner, outcomes, now)));
}

JobStore::RoundResult JobStore::write_round(const std::string& owner, const Round& round,
                                            const std::optional<ClaimRequest>& claim) {
    std::vector<db::Connection::Pipelined> queries{{"session/generic_plans", {}}};
    if (!round.logs.empty()) queries.push_back({"jobs/append_logs", append_logs_params(owner, round.logs)});
    if (!round.progress.empty()) queries.push_back({"jobs/set_progress", set_progress_params(owner, round.progress)});
    std::optional<std::size_t> complete_at, claim_at;
    if (!round.outcomes.empty()) {
        complete_at = queries.size();
        queries.push_back({"jobs/complete_many", complete_params(owner, round.outcomes, std::nullopt)});
    }
    if (claim) {
        if (queries.size() == 1) queries.push_back({"session/async_commit", {}});
        claim_at = queries.size();
        queries.push_back(
            {"jobs/claim", claim_params(owner, claim->queue, claim->limit, claim->lease_s, std::nullopt,
                                                     claim->after, claim->skip_kinds, claim->idle_slots)});
    }
    RoundResult out;
    if (queries.size() == 1) return out;
    auto results = conn_.pipeline(queries);
    if (complete_at) out.recorded = ids_of(results[*complete_at]);
    if (claim_at) out.claimed = claimed_jobs(results[*claim_at]);
    return out;
}

std::vector<LeaseStatus> JobStore::extend_leases(const std::string& owner, const std::vector<std::int64_t>& ids,
                                                int lease_s, const std::optional<std::string>& now) {
    auto r = std::move(conn_.pipeline({{"session/async_commit", {}},
                             {"jobs/extend_leases", db::Params().add(owner).add(ids).add(lease_s).add(now)}})[1]);
    std::vector<LeaseStatus> out(r.rows());
    for (int i = 0; i < r.rows(); ++i) out[i] = {r.int64(i, 0), r.boolean(i, 1)};
    return out;
}

std::optional<Job> JobStore::cancel(std::int64_t id, const std::string& app) {
    auto r = conn_.query("jobs/cancel", db::Params().add(id).add(app));
    if (r.empty()) return std::nullopt;
    return job_from_row(r, 0);
}

int JobStore::rescue_expired(int limit, const std::optional<std::string>& now,
                             const std::map<std::string, Backoff>& backoffs) {
    std::vector<std::string> kinds, initial, multiplier, max;
    for (const auto& [kind, b] : backoffs) {
        kinds.push_back(kind);
        initial.push_back(std::to_string(b.initial_s));
        multiplier.push_back(std::to_string(b.multiplier));
        max.push_back(std::to_string(b.max_s));
    }
    return conn_.query("jobs/rescue_expired",
                       db::Params().add(now).add(limit).add(kinds).add(initial).add(multiplier).add(max))
        .rows();
}

int JobStore::append_logs(const std::string& owner, const std::vector<LogLine>& lines) {
    if (lines.empty()) return 0;
    return static_cast<int>(conn_.query("jobs/append_logs", append_logs_params(owner, lines)).affected());
}

void JobStore::set_progress(const std::string& owner, const std::vector<Progress>& progress) {
    if (!progress.empty()) conn_.query("jobs/set_progress", set_progress_params(owner, progress));
}

void JobStore::note_lost_attempts(const std::string& owner, const std::vector<std::int64_t>& ids,
                                  const std::vector<std::int64_t>& attempts, const std::vector<std::string>& whats) {
    if (!ids.empty()) conn_.query("jobs/note_lost_attempts", db::Params().add(owner).add(ids).add(attempts).add(whats));
}

std::vector<LogLine> JobStore::logs_page(std::int64_t job_id, const std::string& app, std::int64_t after,
                                        int limit) {
    auto r = conn_.query("jobs/logs_page", db::Params().add(job_id).add(app).add(after).add(limit));
    std::vector<LogLine> out(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
        out[i] = {r.int64(i, 0),
                  job_id,
                  static_cast<int>(r.int64(i, 1)),
                  std::string(r.text(i, 2)),
                  rfc3339(r.text(i, 3)),
                  std::string(r.text(i, 4))};
    }
    return out;
}

}  // namespace drover
