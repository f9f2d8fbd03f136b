#pragma once
// The jobs table, seen through its named queries (sql/queries/jobs/*.sql).
// Every method is one statement; none opens a transaction of its own, so a
// caller can compose them inside one.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/db/connection.hpp"
#include "core/job.hpp"
#include "core/kinds.hpp"

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
    int priority = 0;
    std::string run_at;  // as the database printed it, to be sent back in a ClaimPosition
    std::optional<std::int64_t> upload_id;  // unpacked into inbound/ before a command starts
};

// A place in a queue's claim order (priority desc, run_at, id): a claim given
// one starts after it instead of at the head (see jobs/claim.sql).
struct ClaimPosition {
    int priority = 0;
    std::string run_at;
    std::int64_t id = 0;

    static ClaimPosition of(const ClaimedJob& job) { return {job.priority, job.run_at, job.id}; }
};

// How one attempt ended, as the worker reports it (see jobs/complete_many.sql).
struct Outcome {
    // retry: the system's fault, retried with backoff while attempts remain.
    // snooze: the job asked to run again after snooze_s, no attempt used.
    // release: the worker gave the job back (shutdown); pending again, no attempt used.
    enum class Type { succeeded, failed, retry, cancelled, snooze, release };
    std::int64_t id = 0;
    int attempt = 0;  // the attempt this outcome is for: a stale one is not recorded
    Type type = Type::succeeded;
    std::optional<std::string> result_json;
    std::optional<std::string> error;
    std::optional<int> snooze_s;
    std::optional<int> retry_in_s;  // retry: the kind's own backoff; none = the default formula
    bool ran = true;  // false: a prefetched job that ended without starting (not written to the database)
};

// A concurrency limit a kinds file declaration added, changed or removed (or
// that an operator's row overrides), see jobs/declare_kind_limits.sql.
struct LimitChange {
    std::string scope;   // kind or queue
    std::string change;  // added, changed, removed, operator_wins
    std::string name;
    std::optional<std::int64_t> old_concurrency;
    std::optional<std::int64_t> new_concurrency;
};

struct LeaseStatus {
    std::int64_t id = 0;
    bool cancel_requested = false;
};

struct LogLine {
    std::int64_t id = 0;  // assigned by the database; the paging cursor
    std::int64_t job_id = 0;
    int attempt = 0;
    std::string stream;  // stdout, stderr or runner
    std::string at;      // RFC 3339
    std::string line;
};

struct Progress {
    std::int64_t id = 0;
    std::optional<int> percent;
    std::optional<std::string> message;
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

    // Jobs come back in claim order. `after`: start after this position
    // rather than at the head of the queue. `now` (RFC 3339) replaces the
    // database clock, for tests that move time. Jobs of `skip_kinds` (the
    // limited kinds) are left to claim_kind().
    std::vector<ClaimedJob> claim(const std::string& owner, const std::string& queue, int limit, int lease_s,
                                  const std::optional<std::string>& now = std::nullopt,
                                  const std::optional<ClaimPosition>& after = std::nullopt,
                                  const std::vector<std::string>& skip_kinds = {});
    // Like claim(), for a queue that may have a concurrency limit shared by
    // all workers: locks the limit, counts what runs, claims at most the room
    // left. Opens its own transaction.
    std::vector<ClaimedJob> claim_limited(const std::string& owner, const std::string& queue, int limit, int lease_s,
                                          const std::vector<std::string>& skip_kinds = {});
    std::vector<std::string> limited_queues();
    void set_queue_limit(const std::string& queue, int concurrency);
    // Claims jobs of one kind in one queue under the kind's concurrency limit
    // and the queue's, both shared by all workers: locks both, counts what
    // runs, claims at most the room left. Opens its own transaction.
    std::vector<ClaimedJob> claim_kind(const std::string& owner, const std::string& kind, const std::string& queue,
                                       int limit, int lease_s);
    std::vector<std::string> limited_kinds();
    // Which of `kinds` have a due job in `queue` and seem to have room (a hint, read without locks).
    std::vector<std::string> limited_kinds_due(const std::string& queue, const std::vector<std::string>& kinds);
    void set_kind_limit(const std::string& kind, int concurrency);
    // Makes the limits owned by kinds files exactly these (a worker's kinds
    // file), leaving operators' rows alone; one transaction.
    std::vector<LimitChange> declare_limits(const std::map<std::string, int>& kind_limits,
                                            const std::map<std::string, int>& queue_limits);

    // Returns the ids recorded; the others were no longer running under this owner's lease.
    std::vector<std::int64_t> complete_many(const std::string& owner, const std::vector<Outcome>& outcomes,
                                            const std::optional<std::string>& now = std::nullopt);
    // The worker's hot path: what its jobs wrote (log lines, progress), the
    // attempts that ended, then a claim — in one round trip and one
    // transaction, so one commit where separate statements cost one each.
    // Empty parts are left out; a claim alone commits asynchronously
    // (session/async_commit). Generic plans (session/generic_plans). Log lines land in the same transaction as
    // their job's outcome, so a finished job's log is complete.
    struct ClaimRequest {
        std::string queue;
        int limit = 0;
        int lease_s = 30;
        std::optional<ClaimPosition> after;
        std::vector<std::string> skip_kinds;  // limited kinds, left to claim_kind()
        // Slots of the worker with nothing to run, when `limit` also counts
        // room for prefetched jobs (none: `limit`); see jobs/claim.sql.
        std::optional<int> idle_slots;
    };
    struct Round {
        std::vector<LogLine> logs;
        std::vector<Progress> progress;
        std::vector<Outcome> outcomes;
    };
    struct RoundResult {
        std::vector<std::int64_t> recorded;  // outcomes recorded (the others' leases were lost)
        std::vector<ClaimedJob> claimed;
    };
    RoundResult write_round(const std::string& owner, const Round& round, const std::optional<ClaimRequest>& claim);

    // Returns the jobs whose lease is still held.
    std::vector<LeaseStatus> extend_leases(const std::string& owner, const std::vector<std::int64_t>& ids, int lease_s,
                                           const std::optional<std::string>& now = std::nullopt);
    // Cancels a pending job at once, or asks the worker of a running one to
    // stop it. Returns the job, or nothing when it is unknown or finished.
    std::optional<Job> cancel(std::int64_t id, const std::string& app);
    // Puts back up to `limit` jobs whose lease expired; returns how many.
    // `backoffs`: the kinds' own retry backoff (others get the default).
    int rescue_expired(int limit, const std::optional<std::string>& now = std::nullopt,
                       const std::map<std::string, Backoff>& backoffs = {});

    // Stores the lines of attempts `owner` still holds (running under its
    // lease, same attempt); drops the others. Returns how many were stored.
    int append_logs(const std::string& owner, const std::vector<LogLine>& lines);
    void set_progress(const std::string& owner, const std::vector<Progress>& progress);
    // Notes in each job's log that `owner` ran this attempt without holding
    // its claim any more (jobs/note_lost_attempts.sql); `what` says what
    // became of the run. Ids, attempts and whats go together.
    void note_lost_attempts(const std::string& owner, const std::vector<std::int64_t>& ids,
                            const std::vector<std::int64_t>& attempts, const std::vector<std::string>& whats);
    // Up to `limit` lines of the app's job after line id `after`, in order.
    std::vector<LogLine> logs_page(std::int64_t job_id, const std::string& app, std::int64_t after, int limit);

private:
    db::Connection& conn_;
};

}  // namespace drover
