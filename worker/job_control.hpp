#pragma once
// The worker's handle on one running attempt: the job's facts, and a way to
// ask it to stop (cancel, timeout, lease lost, shutdown) that executors check
// or sleep on.
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/store/job_store.hpp"

namespace drover::worker {

enum class StopReason { none, shutdown, lease_lost, cancelled };

class JobControl {
public:
    explicit JobControl(ClaimedJob job) : job_(std::move(job)) {}

    const ClaimedJob& job() const { return job_; }
    void request_stop(StopReason reason);
    StopReason stop_reason() const;
    // Sleeps up to `duration`; returns false early if a stop was requested.
    bool sleep_for(std::chrono::milliseconds duration);

private:
    ClaimedJob job_;
    mutable std::mutex mutex_;
    std::condition_variable stopped_;
    StopReason reason_ = StopReason::none;
};

// How an attempt ended, from the executor's side.
struct AttemptResult {
    Outcome::Type type = Outcome::Type::succeeded;
    std::optional<std::string> result_json;
    std::optional<std::string> error;
};

}  // namespace drover::worker
