#pragma once
// The worker's coordinator: wait → one round (output, outcomes, claim) →
// start jobs, on one connection, plus a dedicated LISTEN connection that
// wakes it (registered in drover.workers, so inserts wake only idle workers).
//  - Wakes on a NOTIFY for one of its queues, on a finished attempt, on the
//    heartbeat, and on a slow poll (NOTIFY is only a hint).
//  - Claims at most its free slots, one statement per queue, rotating the
//    queue it starts with: kinds with a concurrency limit first, one locked
//    transaction each; then the rest of the queue from where its last claim
//    stopped (from the head after a NOTIFY, on a short claim and every 500 ms).
//  - Records finished attempts in batches, keeping them until the database
//    has them: a dropped connection loses no completion.
//  - Writes its jobs' log lines and progress in batches (at most every 200 ms),
//    in the same transaction as the outcomes (JobStore::write_round), so a
//    finished job's log is complete.
//  - Extends all its leases in one statement every lease/3; learns there of
//    leases lost and of cancel requests whose notification was lost.
//  - Runs the lease rescue every few seconds (one worker at a time across
//    hosts) on a thread and connection of its own (worker/sweeper.hpp).
//  - Stops a running job at once on a drover_cancel notification.
//  - Prefetches while recent jobs are short: holds up to 2 x concurrency
//    claimed jobs beyond its running ones (about 100 ms of work), waiting in
//    the runner's queue, so that a freed slot is refilled without a database round and a round
//    records several outcomes and claims several jobs (see Prefetch below).
//    A waiting job is leased like a running one (the heartbeat extends it),
//    ends `cancelled` unstarted on a cancel, is dropped when its lease is
//    lost, released (no attempt used) on shutdown, and given back after
//    waiting DROVER_PREFETCH_MAX_WAIT_MS. Its started_at in the database is
//    its claim time.
#include <atomic>
#include <chrono>
#include <optional>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/sweeps/storage_sweeps.hpp"
#include "core/config.hpp"
#include "core/db/connection.hpp"
#include "core/kinds.hpp"
#include "core/store/job_store.hpp"
#include "worker/handlers.hpp"
#include "worker/job_control.hpp"

namespace drover::worker {

struct WorkerOptions {
    std::string database_url;
    std::string worker_id;
    std::vector<std::string> queues{"default"};
    int concurrency = 10;
    std::chrono::milliseconds poll_interval{2000};
    int lease_s = 30;
    std::filesystem::path state_dir;
    std::chrono::seconds shutdown_grace{10};
    std::chrono::milliseconds rescue_interval{5000};
    std::size_t log_limit_bytes = 1 << 20;
    // A prefetched job that waited this long unstarted is given back; 0: no prefetch.
    std::chrono::milliseconds prefetch_max_wait{1000};
    // Command jobs run in the sandbox (worker/executors/sandbox.hpp); false: DROVER_SANDBOX=off (unsafe).
    bool sandbox = true;
    // The storage sweeps the sweeper thread runs (none: not run), and how often.
    std::optional<StorageSweepSettings> storage_sweeps;
    std::chrono::milliseconds storage_sweep_interval{60000};
    // false: no LISTEN connection and no entry in drover.workers (inserts
    // wake only listening workers); claims every poll_interval, cancels seen
    // at the next heartbeat. For PgBouncer in transaction mode.
    bool listen = true;

    static WorkerOptions from(const Config& config);
};

class Worker {
public:
    // handlers: the in-process kinds this worker can run (see handlers.hpp).
    Worker(WorkerOptions options, const KindRegistry& kinds, Handlers handlers = Handlers::with_builtins());
    ~Worker();

    // Serves until stop() and every attempt is recorded or released.
    void run();
    // Thread-safe. The first call stops claiming and lets running attempts
    // finish within the grace period; a second call (or the deadline) stops
    // them at once, and they go back to pending without using an attempt.
    void stop();

    const std::string& id() const { return options_.worker_id; }

private:
    void listen_loop();
    void coordinate();
    void on_attempt_done(const std::shared_ptr<JobControl>& control, AttemptResult result);
    void take_finished();
    // Writes the outcomes not yet recorded and, when due, the jobs' output,
    // with an optional claim, in one round trip (JobStore::write_round).
    JobStore::RoundResult write_round(JobStore& store, const std::optional<JobStore::ClaimRequest>& claim);
    // Writes a line in the log of each job whose outcome could not be recorded
    // (its claim was lost while it ran), so the record shows the run.
    void note_lost_attempts(JobStore& store, const std::vector<Outcome>& outcomes,
                            const std::vector<std::int64_t>& recorded);
    void heartbeat(JobStore& store);
    // free_slots: what to claim (room for prefetched jobs included);
    // idle_slots: runner threads with nothing to do (claim.sql's idle_slots);
    // limited_ended: a job under a kind or queue limit ended since the last claim.
    int claim(JobStore& store, int free_slots, int idle_slots, bool limited_ended);
    // One claim statement in one queue, from the queue's position when it has one.
    struct QueueClaim {
        std::vector<ClaimedJob> jobs;
        bool from_position = false;
    };
    QueueClaim claim_from(JobStore& store, const std::string& queue, int want, int idle_slots);
    int claim_limited_kinds(JobStore& store, const std::string& queue, int want);
    int start(std::vector<ClaimedJob> jobs);  // runs what a claim returned; returns how many
    void stop_running_jobs(StopReason reason);
    // Ends prefetched jobs taken back from the runner before they started.
    void end_unstarted(std::vector<std::shared_ptr<JobControl>> jobs, StopReason reason);
    int prefetch_depth() const;  // with mutex_ held
    void note_run_time(double ms);  // with mutex_ held: one attempt's run time, for the average below

    // Prefetch. Jobs are short when they run under kShortJob on average
    // (moving average over the last ~8); prefetching starts once 8 jobs
    // averaged below kShortJob and stops above 2 x kShortJob, so that a worker
    // busy with long jobs does not hold claimed jobs other workers could run.
    // How many it holds is sized so that a prefetched job waits about
    // kPrefetchWait: concurrency x kPrefetchWait / average, at most
    // kMaxClaim - concurrency (or 2 x concurrency if larger), so one claim
    // takes up to ~kMaxClaim jobs: hundreds of instant jobs (in-process kinds
    // like noop, timed on the coordinator), ~16 of /bin/true at concurrency 8
    // (25-70 ms each on a busy 2-core machine), none beyond the free slots
    // for jobs over kShortJob. The size adapts; DROVER_CONCURRENCY stays.
    // While prefetching, outcomes wait up to kRecordWithin for more to share
    // their round (or until the prefetched jobs run low), and a job that
    // waited options_.prefetch_max_wait unstarted is given back (and
    // prefetching pauses until 8 more jobs were short).
    // Measured with bench/run command_spawn (5,000 /bin/true, concurrency 8):
    // see the commit message.
    static constexpr std::chrono::milliseconds kShortJob{200};
    static constexpr std::chrono::milliseconds kPrefetchWait{100};
    static constexpr std::chrono::milliseconds kRecordWithin{50};
    // The largest claim a prefetching worker makes: past ~500 rows a claim
    // statement saves no more commits per job than it costs in lock time
    // (the minimal-table limit in bench/run claims 500 per statement).
    static constexpr int kMaxClaim = 500;
    double avg_run_ms_ = 0;    // guarded by mutex_
    double avg_thread_run_ms_ = 0;  // guarded by mutex_: the same, jobs on runner threads only
    int thread_samples_ = 0;        // guarded by mutex_
    std::chrono::steady_clock::time_point last_thread_job_at_{};  // guarded by mutex_
    static constexpr std::chrono::seconds kThreadJobsRecent{10};
    int run_samples_ = 0;      // guarded by mutex_
    bool prefetching_ = false;  // guarded by mutex_
    std::chrono::steady_clock::time_point first_finished_at_{};  // guarded by mutex_: when finished_ became non-empty

    WorkerOptions options_;
    const KindRegistry& kinds_;
    Handlers handlers_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool notified_ = false;
    std::set<std::string> woken_for_;  // guarded by mutex_: queues of targeted wake-ups not yet acted on
    bool output_arrived_ = false;
    bool limited_finished_ = false;  // a job under a kind or queue limit ended
    bool stopping_ = false;
    bool forced_ = false;
    std::vector<Outcome> finished_;                                // guarded by mutex_
    std::map<std::int64_t, std::shared_ptr<JobControl>> running_;  // guarded by mutex_

    std::vector<Outcome> unrecorded_;  // coordinator only: outcomes not yet in the database
    // Logs and progress are written at most this often (and with any
    // outcome): readable while the job runs, yet one statement for many lines.
    static constexpr std::chrono::milliseconds kOutputFlushEvery{200};
    bool output_due_ = false;                                  // coordinator only
    std::chrono::steady_clock::time_point next_output_flush_{};  // coordinator only
    std::size_t next_queue_ = 0;
    // Where this worker's last claim in each queue stopped, and when it next
    // claims from the head of the queue instead (jobs/claim.sql says why).
    struct QueueScan {
        std::optional<ClaimPosition> after;
        std::chrono::steady_clock::time_point next_from_head{};
        bool head_due = false;  // a NOTIFY, a short claim or the 500 ms timer asked for a claim from the head
        std::chrono::steady_clock::time_point head_allowed_at{};  // the budget below allows the next one from then
    };
    std::map<std::string, QueueScan> scans_;  // coordinator only
    static constexpr int kHeadClaimBudget = 20;  // a slow claim from the head that took t: the next one after 20 t
    static constexpr std::chrono::seconds kHeadClaimMaxDelay{60};  // ... but never later than this
    std::chrono::steady_clock::duration position_round_{};  // coordinator only: moving average of rounds claiming from a position
    // The limits claims obey (the kinds file's and operators' rows), refreshed
    // every poll: written by the coordinator under mutex_, read by it freely
    // and by on_attempt_done under mutex_.
    std::set<std::string> limited_queues_;
    std::vector<std::string> limited_kinds_;
    std::atomic<bool> listener_stop_{false};
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace drover::worker
