#pragma once
// The worker's handle on one running attempt: the job's facts, a way to ask
// it to stop (cancel, lease lost, shutdown) that executors check or sleep on,
// and where it writes its log lines and progress.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string_view>

#include "core/store/job_store.hpp"
#include "worker/job_output.hpp"

namespace drover::worker {

// given_back: a prefetched job the worker returns unstarted (it waited too
// long); like shutdown, it goes back to pending without using an attempt.
enum class StopReason { none, shutdown, lease_lost, cancelled, given_back };

class JobControl {
public:
    // output may be null (tests): logs and progress are then dropped.
    JobControl(ClaimedJob job, JobOutput* output = nullptr, std::size_t log_limit_bytes = 1 << 20)
        : job_(std::move(job)), output_(output), log_limit_(log_limit_bytes) {}

    const ClaimedJob& job() const { return job_; }

    // When the claim handed it over, and when a runner thread started it (a
    // prefetched job waits between the two; see Worker).
    std::chrono::steady_clock::time_point claimed_at() const { return claimed_at_; }
    void mark_started() { started_at_ = std::chrono::steady_clock::now(); }
    std::optional<std::chrono::steady_clock::time_point> started_at() const { return started_at_; }

    void request_stop(StopReason reason);
    StopReason stop_reason() const;
    // Sleeps up to `duration`; returns false early if a stop was requested.
    bool sleep_for(std::chrono::milliseconds duration);

    // One line of the job's log ("stdout", "stderr" or "runner"), made
    // storable (bytes that are not UTF-8, and NUL, become U+FFFD). Each line
    // counts its bytes plus kLogLineOverhead against the log limit; past it,
    // one truncation marker is written and the rest dropped, so that neither
    // the database nor the worker's memory grows with the job's output.
    void log(std::string_view stream, std::string_view line);
    // Roughly what one job_logs row costs beyond its text (tuple header,
    // columns, two index entries): 2,000,002 empty lines took 261 MB.
    static constexpr std::size_t kLogLineOverhead = 128;
    static constexpr std::size_t kMaxProgressMessage = 1024;  // bytes; longer messages are cut
    // The message is made storable and cut at kMaxProgressMessage bytes.
    void progress(std::optional<int> percent, std::optional<std::string> message);

private:
    ClaimedJob job_;
    std::chrono::steady_clock::time_point claimed_at_ = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> started_at_;  // runner thread, before done()
    JobOutput* output_;
    std::size_t log_limit_;
    std::size_t log_bytes_ = 0;  // runner thread only
    bool truncated_ = false;     // runner thread only
    mutable std::mutex mutex_;
    std::condition_variable stopped_;
    StopReason reason_ = StopReason::none;
};

// How an attempt ended, from the executor's side.
struct AttemptResult {
    Outcome::Type type = Outcome::Type::succeeded;
    std::optional<std::string> result_json;
    std::optional<std::string> error;
    std::optional<int> snooze_s;

    static AttemptResult succeeded(std::optional<std::string> result_json = std::nullopt) {
        return {Outcome::Type::succeeded, std::move(result_json), std::nullopt, std::nullopt};
    }
    // The system's fault: retried with backoff while attempts remain.
    static AttemptResult retry(std::string error) {
        return {Outcome::Type::retry, std::nullopt, std::move(error), std::nullopt};
    }
    // The caller's fault (bad input): failed at once.
    static AttemptResult permanent_failure(std::string error) {
        return {Outcome::Type::failed, std::nullopt, std::move(error), std::nullopt};
    }
    static AttemptResult snooze(int seconds) { return {Outcome::Type::snooze, std::nullopt, std::nullopt, seconds}; }
};

}  // namespace drover::worker
