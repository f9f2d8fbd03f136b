#pragma once
// The jobs table, seen through its named queries (sql/queries/jobs/*.sql).
// Every method is one statement; none opens a transaction of its own, so a
// caller can compose them inside one.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/db/connection.hpp"
#include "core/job.hpp"

namespace drover {

// A job handed to a worker by a claim.
struct ClaimedJob {
    std::int64_t id = 0;
    std::string kind;
    std::string queue;
    std::string args_json;
    int attempt = 0;
    int max_attempts = 0;
    std::optional<std::int64_t> timeout_s;
};

// How one attempt ended, as the worker reports it.
struct Outcome {
    // release: the worker gave the job back (shutdown); pending again, no attempt used.
    enum class Type { succeeded, failed, retry, release };
    std::int64_t id = 0;
    Type type = Type::succeeded;
    std::optional<std::string> result_json;
    std::optional<std::string> error;
};

class JobStore {
public:
    explicit JobStore(db::Connection& conn) : conn_(conn) {}

    struct Inserted {
        Job job;
        bool created = true;  // false: an unfinished job with the same unique key was returned
    };
    Inserted insert(const NewJob& job);
    std::optional<Job> get(std::int64_t id, const std::string& app);

    // `now` (RFC 3339) replaces the database clock, for tests that move time.
    std::vector<ClaimedJob> claim(const std::string& owner, const std::string& queue, int limit, int lease_s,
                                  const std::optional<std::string>& now = std::nullopt);
    // Returns the ids recorded; the others were no longer running under this owner's lease.
    std::vector<std::int64_t> complete_many(const std::string& owner, const std::vector<Outcome>& outcomes,
                                            const std::optional<std::string>& now = std::nullopt);
    // Returns the ids whose lease is still held.
    std::vector<std::int64_t> extend_leases(const std::string& owner, const std::vector<std::int64_t>& ids,
                                            int lease_s, const std::optional<std::string>& now = std::nullopt);

private:
    db::Connection& conn_;
};

}  // namespace drover
