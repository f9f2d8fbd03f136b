#include "core/store/job_store.hpp"

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
        case Outcome::Type::release: return "release";
    }
    return "failed";
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
                                        const std::optional<std::string>& now) {
    auto r = conn_.query("jobs/claim", db::Params().add(owner).add(queue).add(limit).add(lease_s).add(now));
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
    }
    return out;
}

std::vector<std::int64_t> JobStore::complete_many(const std::string& owner, const std::vector<Outcome>& outcomes,
                                                  const std::optional<std::string>& now) {
    std::vector<std::int64_t> ids;
    std::vector<std::string> types;
    std::vector<std::optional<std::string>> results, errors;
    for (const auto& o : outcomes) {
        ids.push_back(o.id);
        types.emplace_back(outcome_name(o.type));
        results.push_back(o.result_json);
        errors.push_back(o.error);
    }
    return ids_of(conn_.query("jobs/complete_many",
                              db::Params().add(owner).add(ids).add(types).add(results).add(errors).add(now)));
}

std::vector<std::int64_t> JobStore::extend_leases(const std::string& owner, const std::vector<std::int64_t>& ids,
                                                  int lease_s, const std::optional<std::string>& now) {
    return ids_of(conn_.query("jobs/extend_leases", db::Params().add(owner).add(ids).add(lease_s).add(now)));
}

}  // namespace drover
