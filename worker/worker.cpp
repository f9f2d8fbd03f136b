#include "worker/worker.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <sstream>
#include <thread>

#include "core/db/listener.hpp"
#include "core/error.hpp"
#include "core/storable.hpp"
#include "core/store/worker_registry.hpp"
#include "worker/job_output.hpp"
#include "worker/executors/job_folder.hpp"
#include "worker/executors/sandbox.hpp"
#include "worker/job_runner.hpp"
#include "worker/sweeper.hpp"

namespace drover::worker {

using Clock = std::chrono::steady_clock;

namespace {

std::string default_worker_id() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::random_device rd;
    char suffix[9];
    std::snprintf(suffix, sizeof suffix, "%08x", rd());
    return std::string(host) + ":" + std::to_string(getpid()) + ":" + suffix;
}

std::vector<std::string> split_queues(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string q;
    while (std::getline(in, q, ',')) {
        if (!q.empty()) out.push_back(q);
    }
    if (out.empty()) throw ConfigError("DROVER_QUEUES names no queue");
    return out;
}

std::filesystem::path default_state_dir() {
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "/tmp") / ".local/share/drover";
}

}  // namespace

WorkerOptions WorkerOptions::from(const Config& c) {
    WorkerOptions o;
    o.database_url = c.str("database_url");
    o.worker_id = c.str("worker_id").empty() ? default_worker_id() : c.str("worker_id");
    o.queues = split_queues(c.str("queues"));
    o.concurrency = static_cast<int>(c.integer("concurrency"));
    if (o.concurrency < 1) throw ConfigError("DROVER_CONCURRENCY must be at least 1");
    o.poll_interval = std::chrono::milliseconds(c.integer("poll_interval_ms"));
    o.lease_s = static_cast<int>(c.integer("lease_s"));
    if (o.lease_s < 3) throw ConfigError("DROVER_LEASE_S must be at least 3");
    o.state_dir = c.str("state_dir").empty() ? default_state_dir() : std::filesystem::path(c.str("state_dir"));
    o.shutdown_grace = std::chrono::seconds(c.integer("shutdown_grace_s"));
    o.rescue_interval = std::chrono::milliseconds(c.integer("rescue_interval_ms"));
    o.log_limit_bytes = static_cast<std::size_t>(c.integer("log_limit_bytes"));
    o.storage_sweep_interval = std::chrono::milliseconds(c.integer("storage_sweep_interval_ms"));
    if (o.storage_sweep_interval.count() > 0) {
        o.storage_sweeps = StorageSweepSettings::from(c);
        if (c.str("storage_dir").empty()) o.storage_sweeps->storage_root = o.state_dir / "storage";
    }
    o.prefetch_max_wait = std::chrono::milliseconds(c.integer("prefetch_max_wait_ms"));
    o.sandbox = c.str("sandbox") == "on";
    if (o.prefetch_max_wait.count() < 0) throw ConfigError("DROVER_PREFETCH_MAX_WAIT_MS must not be negative");
    const auto& listen = c.str("listen");
    if (listen != "on" && listen != "off") throw ConfigError("DROVER_LISTEN must be on or off, not '" + listen + "'");
    o.listen = listen == "on";
    return o;
}

class Worker::Impl {
public:
    Impl(Worker& w)
        : sandbox(w.options_.sandbox ? Sandbox::create(w.kinds_, w.options_.state_dir / "jobs") : Sandbox::off()),
          folders(w.options_.state_dir / "jobs", w.options_.worker_id),
          listener(w.options_.database_url, {"drover_jobs", "drover_cancel"},
                   [&w](db::Connection& conn) {
                       WorkerRegistry(conn).register_listener(w.options_.worker_id, w.options_.queues,
                                                              w.options_.concurrency);
                   }),
          runner(w.kinds_, w.handlers_, folders.dir(), w.options_.concurrency,
                 [&w](const std::shared_ptr<JobControl>& c, AttemptResult r) { w.on_attempt_done(c, std::move(r)); },
                 sandbox),
          sweeper(w.options_.database_url, w.options_.rescue_interval, w.kinds_.backoffs(), [this] {
              // Per host, not per database: the folders of this host's dead workers.
              if (int removed = folders.remove_orphans()) spdlog::info("removed the job folders of {} dead workers", removed);
          }, w.options_.storage_sweeps, w.options_.storage_sweep_interval) {
        if (!w.options_.sandbox) spdlog::warn("DROVER_SANDBOX=off: command jobs run unsandboxed (unsafe)");
        if (int removed = folders.remove_orphans()) spdlog::info("removed the job folders of {} dead workers", removed);
    }

    Sandbox sandbox;      // before anything connects: a worker whose sandbox fails stops at once
    JobFolders folders;   // this worker's attempt folders; the sweep of dead workers' ones
    db::Listener listener;
    JobOutput output;
    JobRunner runner;
    Sweeper sweeper;
    std::thread listen_thread;
};

Worker::Worker(WorkerOptions options, const KindRegistry& kinds, Handlers handlers)
    : options_(std::move(options)), kinds_(kinds), handlers_(std::move(handlers)) {
    impl_ = std::make_unique<Impl>(*this);
    impl_->output.on_arrival([this] {
        {
            std::lock_guard lock(mutex_);
            output_arrived_ = true;
        }
        wake_.notify_all();
    });
}

Worker::~Worker() {
    listener_stop_ = true;
    impl_->listener.interrupt();
    if (impl_->listen_thread.joinable()) impl_->listen_thread.join();
}

void Worker::stop() {
    bool force = false;
    {
        std::lock_guard lock(mutex_);
        force = stopping_;
        stopping_ = true;
        forced_ = forced_ || force;
    }
    wake_.notify_all();
    if (force) stop_running_jobs(StopReason::shutdown);
}

void Worker::stop_running_jobs(StopReason reason) {
    std::lock_guard lock(mutex_);
    for (auto& [id, control] : running_) control->request_stop(reason);
}

void Worker::listen_loop() {
    while (!listener_stop_) {
        auto wakeup = impl_->listener.wait(options_.poll_interval);
        bool ours = wakeup.reconnected;
        std::set<std::string> woken;
        for (const auto& n : wakeup.notifications) {
            if (n.channel == "drover_cancel") {
                auto id = std::atoll(n.payload.c_str());
                {
                    std::lock_guard lock(mutex_);
                    if (auto it = running_.find(id); it != running_.end()) {
                        it->second->request_stop(StopReason::cancelled);
                    }
                }
                // Prefetched and not started: ends `cancelled` now, unrun.
                if (auto waiting = impl_->runner.withdraw(id)) end_unstarted({waiting}, StopReason::cancelled);
                continue;
            }
            bool targeted = n.channel != "drover_jobs";  // our own channel: chosen to take this work
            bool queue_of_ours =
                std::find(options_.queues.begin(), options_.queues.end(), n.payload) != options_.queues.end();
            if (targeted && queue_of_ours) woken.insert(n.payload);
            ours = ours || queue_of_ours;
        }
        if (ours) {
            {
                std::lock_guard lock(mutex_);
                notified_ = true;
                woken_for_.insert(woken.begin(), woken.end());
            }
            wake_.notify_all();
        }
    }
}

void Worker::on_attempt_done(const std::shared_ptr<JobControl>& control, AttemptResult result) {
    const auto& job = control->job();
    // The job's own data must never fail the round that records it (and with
    // it the other jobs' outcomes): an error text is made storable, and a
    // result Postgres would refuse fails this job alone.
    if (result.error) result.error = storable_text(*result.error);
    if (result.result_json) {
        if (auto why = jsonb_refusal(*result.result_json)) {
            control->log("runner", "result cannot be stored: " + *why);
            result = AttemptResult::permanent_failure("result cannot be stored: " + *why);
        }
    }
    Outcome outcome{job.id,   job.attempt,     result.type, std::move(result.result_json), std::move(result.error),
                    result.snooze_s, std::nullopt};
    if (const Kind* kind = kinds_.find(job.kind); kind && kind->backoff && outcome.type == Outcome::Type::retry) {
        outcome.retry_in_s = kind->backoff->delay_s(job.attempt);
    }
    switch (control->stop_reason()) {
        case StopReason::given_back:
        case StopReason::shutdown:
            // Our own shutdown interrupted it: not the job's fault, no attempt used.
            outcome = Outcome{job.id, job.attempt, Outcome::Type::release, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
            break;
        case StopReason::cancelled:
            if (outcome.type != Outcome::Type::succeeded) {
                outcome = Outcome{job.id, job.attempt, Outcome::Type::cancelled, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
                control->log("runner", "cancelled");
            }
            break;
        case StopReason::lease_lost:
            // Recording it would fail anyway (the lease is gone); say why in the log.
            spdlog::warn("job {}: lease lost; this attempt's ending is not recorded", job.id);
            break;
        case StopReason::none:
            break;
    }
    // Instant kinds run on the coordinator without a runner thread's start mark.
    outcome.ran = control->started_at().has_value() || impl_->runner.is_instant(job.kind);
    if (outcome.error) {
        spdlog::warn("job {} ({}) attempt {}: {}", job.id, job.kind, job.attempt, *outcome.error);
    } else {
        spdlog::debug("job {} ({}) attempt {}: done", job.id, job.kind, job.attempt);
    }
    auto ended = Clock::now();
    {
        std::lock_guard lock(mutex_);
        // Instant kinds are timed by start(), which ran them.
        if (auto started = control->started_at()) {
            double ms = std::chrono::duration<double, std::milli>(ended - *started).count();
            avg_thread_run_ms_ = thread_samples_ == 0 ? ms : avg_thread_run_ms_ + (ms - avg_thread_run_ms_) / 8;
            ++thread_samples_;
            last_thread_job_at_ = ended;
            note_run_time(ms);
        }
        if (finished_.empty()) first_finished_at_ = ended;
        finished_.push_back(std::move(outcome));
        // Its room under a limit is free: claim now rather than at the next
        // poll. The limits the claims obey, an operator's rows included (not
        // only the kinds file's).
        limited_finished_ = limited_finished_ || limited_queues_.contains(job.queue) ||
                            std::find(limited_kinds_.begin(), limited_kinds_.end(), job.kind) != limited_kinds_.end();
        running_.erase(job.id);
    }
    wake_.notify_all();
}

void Worker::end_unstarted(std::vector<std::shared_ptr<JobControl>> jobs, StopReason reason) {
    if (reason == StopReason::given_back && !jobs.empty()) {
        // The jobs ahead of them run long: stop prefetching until 8 more were short.
        std::lock_guard lock(mutex_);
        prefetching_ = false;
        run_samples_ = 0;
        spdlog::debug("gave back {} prefetched jobs that waited {} ms", jobs.size(), options_.prefetch_max_wait.count());
    }
    for (auto& control : jobs) {
        control->request_stop(reason);
        // on_attempt_done turns this by the stop reason into cancelled,
        // release (shutdown, given back) or nothing recorded (lease lost).
        on_attempt_done(control, AttemptResult::retry("not started"));
    }
}

void Worker::note_run_time(double ms) {
    avg_run_ms_ = run_samples_ == 0 ? ms : avg_run_ms_ + (ms - avg_run_ms_) / 8;
    ++run_samples_;
    if (!prefetching_ && run_samples_ >= 8 && avg_run_ms_ < kShortJob.count()) {
        prefetching_ = true;
        spdlog::debug("jobs are short ({:.3f} ms on average): prefetching", avg_run_ms_);
    } else if (prefetching_ && avg_run_ms_ > 2 * kShortJob.count()) {
        prefetching_ = false;
        spdlog::debug("jobs are long ({:.1f} ms on average): not prefetching", avg_run_ms_);
    }
}

int Worker::prefetch_depth() const {
    if (!prefetching_ || options_.prefetch_max_wait.count() == 0) return 0;
    // Instant jobs take no slot: when jobs that do (runner threads) ran
    // lately, their own average sizes the depth, so that a queue mixing many
    // instant jobs with a few long ones does not claim hundreds of long ones.
    double avg = avg_run_ms_;
    if (thread_samples_ > 0 && Clock::now() - last_thread_job_at_ < kThreadJobsRecent) avg = std::max(avg, avg_thread_run_ms_);
    // Sub-millisecond jobs count as 0.01 ms: the cap below bounds them.
    double depth = options_.concurrency * kPrefetchWait.count() / std::max(avg, 0.01);
    return std::clamp(static_cast<int>(std::min(std::ceil(depth), 1e6)), 1,
                      std::max(2 * options_.concurrency, kMaxClaim - options_.concurrency));
}

void Worker::take_finished() {
    std::lock_guard lock(mutex_);
    for (auto& o : finished_) unrecorded_.push_back(std::move(o));
    finished_.clear();
}

JobStore::RoundResult Worker::write_round(JobStore& store, const std::optional<JobStore::ClaimRequest>& claim) {
    JobStore::Round round;
    round.outcomes = std::move(unrecorded_);
    unrecorded_.clear();
    // Output goes with any outcome, so that a finished job's log is complete
    // when its status is final (the job wrote it before it finished).
    if (output_due_ || !round.outcomes.empty()) {
        auto batch = impl_->output.take();
        round.logs = std::move(batch.logs);
        round.progress = std::move(batch.progress);
        output_due_ = false;
        next_output_flush_ = Clock::now() + kOutputFlushEvery;
    }
    try {
        auto result = store.write_round(options_.worker_id, round, claim);
        if (result.recorded.size() != round.outcomes.size()) {
            spdlog::warn("{} of {} results were not recorded: their leases were lost",
                         round.outcomes.size() - result.recorded.size(), round.outcomes.size());
            note_lost_attempts(store, round.outcomes, result.recorded);
        }
        return result;
    } catch (...) {
        impl_->output.put_back({std::move(round.logs), std::move(round.progress)});
        unrecorded_ = std::move(round.outcomes);
        throw;
    }
}

void Worker::note_lost_attempts(JobStore& store, const std::vector<Outcome>& outcomes,
                                const std::vector<std::int64_t>& recorded) {
    std::set<std::int64_t> kept(recorded.begin(), recorded.end());
    std::vector<std::int64_t> ids, attempts;
    std::vector<std::string> whats;
    for (const auto& o : outcomes) {
        if (kept.contains(o.id) || !o.ran) continue;
        ids.push_back(o.id);
        attempts.push_back(o.attempt);
        whats.push_back(o.type == Outcome::Type::succeeded ? "it succeeded, unrecorded"
                                                           : "it ended unrecorded: " + o.error.value_or("stopped"));
    }
    try {
        store.note_lost_attempts(options_.worker_id, ids, attempts, whats);
    } catch (const DbError& e) {
        // Only a note: the outcomes themselves are settled (not ours to record).
        spdlog::warn("could not note {} lost attempts: {}", ids.size(), e.what());
    }
}

void Worker::heartbeat(JobStore& store) {
    std::vector<std::int64_t> ids;
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, control] : running_) ids.push_back(id);
    }
    if (ids.empty()) return;
    auto held = store.extend_leases(options_.worker_id, ids, options_.lease_s);
    std::map<std::int64_t, bool> cancel_requested;
    for (const auto& h : held) cancel_requested[h.id] = h.cancel_requested;
    std::vector<std::pair<std::int64_t, StopReason>> stopped;
    {
        std::lock_guard lock(mutex_);
        for (auto id : ids) {
            auto it = running_.find(id);
            if (it == running_.end()) continue;
            auto c = cancel_requested.find(id);
            if (c == cancel_requested.end()) {
                it->second->request_stop(StopReason::lease_lost);
                stopped.emplace_back(id, StopReason::lease_lost);
            } else if (c->second) {
                it->second->request_stop(StopReason::cancelled);
                stopped.emplace_back(id, StopReason::cancelled);
            }
        }
    }
    // Prefetched ones among them end here, unstarted.
    for (auto [id, reason] : stopped) {
        if (auto waiting = impl_->runner.withdraw(id)) end_unstarted({waiting}, reason);
    }
}

Worker::QueueClaim Worker::claim_from(JobStore& store, const std::string& queue, int want, int idle_slots) {
    // Bounds how long a job that sorts before a queue's position (a retried
    // job of higher priority coming due, a row another claimer let go) can wait.
    constexpr auto from_head_every = std::chrono::milliseconds(500);
    if (limited_queues_.contains(queue)) {
        // Only limited queues pay for the lock and the count; always from the
        // head (the limit keeps those claims small).
        // Not prefetched: a limited queue's room is shared by every worker.
        want = std::min(want, idle_slots);
        if (want == 0) return {};
        return {store.claim_limited(options_.worker_id, queue, want, options_.lease_s, limited_kinds_), false};
    }
    auto& scan = scans_[queue];
    auto now = Clock::now();
    if (now >= scan.next_from_head) scan.head_due = true;
    // From the head when one is due and the budget allows, or with no position.
    bool from_head = !scan.after || (scan.head_due && now >= scan.head_allowed_at);
    QueueClaim out{{}, !from_head};
    // Output and results ride along with the claim: one round trip, one commit.
    out.jobs = write_round(store, JobStore::ClaimRequest{queue, want, options_.lease_s,
                                                         from_head ? std::nullopt : scan.after, limited_kinds_,
                                                         idle_slots})
                   .claimed;
    auto took = Clock::now() - now;
    if (from_head) {
        // A claim from the head walks every index entry of a job claimed
        // since VACUUM last ran; while a snapshot older than those claims is
        // held open (a long report, a forgotten transaction), VACUUM can
        // remove none and that walk grows with every job run. A claim from
        // the head that took clearly longer than rounds from the position
        // (5 ms + twice their average) puts the next one off by 20 times what
        // it took (60 s at most: what sorts before the position, a job of
        // higher priority or a retry coming due, waits that long at worst);
        // claims go on from the position meanwhile. So walks get ~5 % of
        // this connection's time at most, and a cheap head claim (the usual
        // case) is never put off. Measured with bench/run held_snapshot
        // (issue 12): with the delay capped at 2 s instead, once a walk took
        // over 100 ms the cap, not the budget, set how often it ran, and over
        // a 300 s snapshot the index entries read per claim grew from 44,000
        // (first third) to 247,000 (last third).
        scan.head_due = false;
        scan.next_from_head = now + from_head_every;
        bool slow = took > std::chrono::milliseconds(5) + 2 * position_round_;
        scan.head_allowed_at =
            slow ? now + std::min<Clock::duration>(kHeadClaimBudget * took, kHeadClaimMaxDelay) : now;
    } else {
        position_round_ += (took - position_round_) / 8;
    }
    if (!out.jobs.empty()) scan.after = ClaimPosition::of(out.jobs.back());
    return out;
}

int Worker::claim(JobStore& store, int free_slots, int idle_slots, bool limited_ended) {
    // Limited claims (claim_kind, claim_limited) count the running jobs under
    // a limit, and this worker's ended jobs count until their outcomes are
    // written; those ride along with the unlimited claim, which comes after.
    // So when a limited job ended, its outcome is written first: else its own
    // room looked taken, the claim took nothing, and nothing claimed again
    // until the next poll (a limit of 1 ran one job per poll; a limit of 2
    // stalled when both its jobs ended in the same turn).
    if (limited_ended && !unrecorded_.empty()) write_round(store, std::nullopt);
    int claimed = 0;
    auto idle_left = [&] { return std::max(0, idle_slots - claimed); };
    for (std::size_t i = 0; i < options_.queues.size() && claimed < free_slots; ++i) {
        const auto& queue = options_.queues[(next_queue_ + i) % options_.queues.size()];
        // Limited kinds first: their limits bound what they take, and after
        // the rest they would starve behind a flood of other kinds.
        // Limited kinds are not prefetched: their room is shared by every worker.
        claimed += claim_limited_kinds(store, queue, std::min(free_slots - claimed, idle_left()));
        int want = free_slots - claimed;
        if (want == 0) break;
        // Each claim's jobs start before the next claim, so that a failing
        // claim loses none of them.
        auto first = claim_from(store, queue, want, idle_left());
        int got = start(std::move(first.jobs));
        if (first.from_position && got < want) {
            // Short from the position: what is left may sort before it.
            auto& scan = scans_[queue];
            scan.head_due = true;
            if (Clock::now() < scan.head_allowed_at) {
                claimed += got;
                continue;  // the head is over budget: the next head claim comes when it allows
            }
            got += start(claim_from(store, queue, want - got, std::max(0, idle_left() - got)).jobs);
        }
        claimed += got;
    }
    next_queue_ = (next_queue_ + 1) % options_.queues.size();
    return claimed;
}

int Worker::claim_limited_kinds(JobStore& store, const std::string& queue, int want) {
    if (limited_kinds_.empty() || want == 0) return 0;
    int claimed = 0;
    // The look without locks first: a kind with nothing due, or full, costs no locked transaction.
    for (const auto& kind : store.limited_kinds_due(queue, limited_kinds_)) {
        if (claimed == want) break;
        // Started before the next claim, so that a failing claim loses none of these.
        claimed += start(store.claim_kind(options_.worker_id, kind, queue, want - claimed, options_.lease_s));
    }
    return claimed;
}

int Worker::start(std::vector<ClaimedJob> jobs) {
    std::vector<std::shared_ptr<JobControl>> surplus;
    for (auto& job : jobs) {
        auto control = std::make_shared<JobControl>(std::move(job), &impl_->output, options_.log_limit_bytes);
        if (impl_->runner.is_instant(control->job().kind)) {
            // Timed here (no runner thread marks its start), so that a worker
            // fed instant jobs prefetches and claims them in large rounds.
            auto t0 = Clock::now();
            auto result = impl_->runner.run_now(*control);
            {
                std::lock_guard lock(mutex_);
                note_run_time(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            }
            on_attempt_done(control, std::move(result));
            continue;
        }
        {
            std::lock_guard lock(mutex_);
            // A claim sized by instant jobs that brought jobs needing a slot
            // (their length unknown): keep what the slots and the usual
            // prefetch (2 x concurrency) hold, give the rest back at once,
            // unstarted, for other workers (end_unstarted also pauses prefetch).
            bool slot_jobs_known = thread_samples_ > 0 && Clock::now() - last_thread_job_at_ < kThreadJobsRecent;
            if (!slot_jobs_known && static_cast<int>(running_.size()) >= 3 * options_.concurrency) {
                surplus.push_back(control);
                continue;
            }
            running_.emplace(control->job().id, control);
        }
        impl_->runner.submit(std::move(control));
    }
    if (!surplus.empty()) end_unstarted(std::move(surplus), StopReason::given_back);
    return static_cast<int>(jobs.size());
}

void Worker::run() {
    {
        // The kinds file owns the limits it declares: a limit removed from it
        // goes (see the migration limits_owned_by_kinds_file).
        db::Connection conn(options_.database_url, "drover-worker");
        for (const auto& c : JobStore(conn).declare_limits(kinds_.kind_limits(), kinds_.queue_limits())) {
            auto text = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string("none"); };
            if (c.change == "operator_wins") {
                spdlog::warn("{} {}: the kinds file says concurrency {}, an operator set {}: the operator's stays",
                             c.scope, c.name, text(c.new_concurrency), text(c.old_concurrency));
            } else if (c.change == "added") {
                spdlog::info("{} {}: concurrency limit {}", c.scope, c.name, text(c.new_concurrency));
            } else {
                // Another kinds file declared it otherwise: every worker should run with the same file.
                spdlog::warn("{} {}: concurrency limit {} -> {} (this worker's kinds file)", c.scope, c.name,
                             text(c.old_concurrency), text(c.new_concurrency));
            }
        }
    }
    if (options_.listen) {
        impl_->listen_thread = std::thread([this] { listen_loop(); });
    } else {
        spdlog::info("DROVER_LISTEN=off: polling every {} ms, no LISTEN", options_.poll_interval.count());
    }
    impl_->sweeper.start();
    coordinate();
    impl_->sweeper.stop();
    impl_->runner.stop();
    listener_stop_ = true;
    impl_->listener.interrupt();
    if (impl_->listen_thread.joinable()) impl_->listen_thread.join();
}

void Worker::coordinate() {
    std::unique_ptr<db::Connection> conn;
    std::mt19937 rng{std::random_device{}()};
    auto backoff = std::chrono::milliseconds(100);
    auto heartbeat_every = std::chrono::milliseconds(options_.lease_s * 1000 / 3);
    auto next_poll = Clock::now();
    auto next_heartbeat = Clock::now() + heartbeat_every;
    auto next_limits_refresh = Clock::now();
    std::optional<Clock::time_point> stop_deadline;
    bool more_waiting = false;  // the last claim filled every free slot: there may be more

    for (;;) {
        bool poll_now = false;
        bool limited_ended = false;  // a job under a limit ended: its outcome goes before the claim
        bool from_head = false;
        std::vector<std::string> woken_for;  // queues an insert woke this worker (alone) for
        bool stopping = false;
        bool record_now = false;  // finished_ is to be recorded in this turn
        int free_slots = 0;
        int idle_slots = 0;
        // Only with prefetch on: without it a job sits in the runner's queue
        // only for the moment until a thread takes it.
        std::optional<Clock::time_point> oldest_waiting;
        if (options_.prefetch_max_wait.count() > 0) oldest_waiting = impl_->runner.oldest_waiting();
        {
            std::unique_lock lock(mutex_);
            auto until = std::min(next_poll, next_heartbeat);
            if (stop_deadline) until = std::min(until, *stop_deadline);
            if (!impl_->output.empty()) until = std::min(until, next_output_flush_);
            if (oldest_waiting) until = std::min(until, *oldest_waiting + options_.prefetch_max_wait);
            if (!finished_.empty() && prefetch_depth() > 0) until = std::min(until, first_finished_at_ + kRecordWithin);
            // Without prefetch, every ended attempt frees a slot to claim for
            // at once. With it, outcomes wait up to kRecordWithin for company
            // (measured: rounds of ~3.7 jobs otherwise, most woken by the
            // next job's first log line), unless the prefetched jobs run low
            // (under half of them left) while the queue has more.
            auto record_due = [&] {
                int depth = prefetch_depth();
                int room = options_.concurrency + depth - static_cast<int>(running_.size());
                // A limited job's room is shared by every worker: recorded at once.
                return !finished_.empty() && (depth == 0 || limited_finished_ || (more_waiting && room > depth / 2) ||
                                              stopping_ || Clock::now() >= first_finished_at_ + kRecordWithin);
            };
            wake_.wait_until(lock, until, [&] {
                int room = options_.concurrency + prefetch_depth() - static_cast<int>(running_.size());
                bool record_now = record_due();
                bool all_done = stopping_ && running_.empty() && finished_.empty() && unrecorded_.empty() &&
                                impl_->output.empty();
                return record_now || (stopping_ && !stop_deadline) || (room > 0 && notified_) || output_arrived_ ||
                       all_done;
            });
            output_arrived_ = false;
            stopping = stopping_;
            record_now = record_due();
            poll_now = notified_ || (more_waiting && record_now) || limited_finished_;
            limited_ended = limited_finished_;
            limited_finished_ = false;
            // New jobs may sort before where the last claims stopped.
            if (notified_) from_head = true;
            notified_ = false;
            woken_for.assign(woken_for_.begin(), woken_for_.end());
            woken_for_.clear();
            free_slots = options_.concurrency + prefetch_depth() - static_cast<int>(running_.size());
            idle_slots = std::max(0, options_.concurrency - static_cast<int>(running_.size()));
            if (stopping && !stop_deadline) stop_deadline = Clock::now() + options_.shutdown_grace;
            if (stopping && running_.empty() && finished_.empty() && unrecorded_.empty() && impl_->output.empty()) break;
        }
        // Prefetched jobs not started yet: released at once on shutdown
        // (no attempt used), given back when they waited too long.
        if (stopping) {
            end_unstarted(impl_->runner.withdraw_all(), StopReason::shutdown);
        } else if (oldest_waiting && Clock::now() >= *oldest_waiting + options_.prefetch_max_wait) {
            end_unstarted(impl_->runner.withdraw_claimed_before(Clock::now() - options_.prefetch_max_wait), StopReason::given_back);
        }
        auto now = Clock::now();
        if (stop_deadline && now >= *stop_deadline) {
            spdlog::info("shutdown grace period over: stopping running jobs");
            stop_running_jobs(StopReason::shutdown);
            stop_deadline = Clock::time_point::max();
        }
        try {
            if (!conn || conn->broken()) {
                conn.reset();
                conn = std::make_unique<db::Connection>(options_.database_url, "drover-worker");
                poll_now = true;  // whatever was notified while we were away
                from_head = true;
            }
            JobStore store(*conn);
            if (record_now || stopping) take_finished();
            output_due_ = output_due_ || now >= next_output_flush_ || stopping;
            if (from_head) {
                for (auto& [queue, scan] : scans_) scan.head_due = true;
            }
            if (now >= next_heartbeat) {
                heartbeat(store);
                next_heartbeat = now + heartbeat_every;
            }
            if (!stopping && free_slots > 0 && (poll_now || now >= next_poll)) {
                if (now >= next_limits_refresh) {
                    auto queues = store.limited_queues();
                    auto kinds = store.limited_kinds();
                    std::lock_guard lock(mutex_);
                    limited_queues_ = std::set<std::string>(queues.begin(), queues.end());
                    limited_kinds_ = std::move(kinds);
                    next_limits_refresh = now + options_.poll_interval;
                }
                int claimed = claim(store, free_slots, idle_slots, limited_ended);
                more_waiting = claimed == free_slots;
                next_poll = Clock::now() + options_.poll_interval;
                if (more_waiting && !woken_for.empty()) {
                    // Chosen for new work and full: there may be more than we took.
                    WorkerRegistry(*conn).pass_on_wakeup(woken_for);
                }
            } else if (!woken_for.empty()) {
                // Chosen for new work while full or stopping.
                WorkerRegistry(*conn).pass_on_wakeup(woken_for);
            }
            // What did not ride along with a claim.
            if (!unrecorded_.empty() || (output_due_ && !impl_->output.empty())) write_round(store, std::nullopt);
            backoff = std::chrono::milliseconds(100);
        } catch (const DbError& e) {
            if (!e.retryable()) throw;
            conn.reset();
            if (std::lock_guard lock(mutex_); forced_) {
                // Told twice to stop and the database is away: leave; the
                // lease rescue puts back whatever this worker still held.
                spdlog::error("database: {}; exiting without recording {} results", e.what(), unrecorded_.size());
                return;
            }
            auto pause = backoff / 2 + std::chrono::milliseconds(
                                           std::uniform_int_distribution<long>(0, backoff.count())(rng));
            spdlog::warn("database: {}; retrying in {} ms", e.what(), pause.count());
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, pause, [&] { return forced_; });
        }
    }
    try {
        if (conn && !conn->broken()) WorkerRegistry(*conn).unregister(options_.worker_id);
    } catch (const DbError& e) {
        // The registration goes anyway once the LISTEN connection closes.
        spdlog::debug("unregister: {}", e.what());
    }
}

}  // namespace drover::worker
