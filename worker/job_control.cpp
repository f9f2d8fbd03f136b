#include "worker/job_control.hpp"

namespace drover::worker {

void JobControl::request_stop(StopReason reason) {
    {
        std::lock_guard lock(mutex_);
        if (reason_ == StopReason::none) reason_ = reason;
    }
    stopped_.notify_all();
}

StopReason JobControl::stop_reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
}

bool JobControl::sleep_for(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex_);
    return !stopped_.wait_for(lock, duration, [&] { return reason_ != StopReason::none; });
}

}  // namespace drover::worker
