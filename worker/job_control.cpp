#include "worker/job_control.hpp"

#include "core/clock.hpp"
#include "core/storable.hpp"

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

void JobControl::log(std::string_view stream, std::string_view line) {
    if (!output_ || truncated_) return;
    // What a line costs, not only its text: 2,000,000 empty lines were once
    // 2,000,000 rows (+261 MB in job_logs, 644 MB of worker memory).
    log_bytes_ += line.size() + kLogLineOverhead;
    if (log_bytes_ > log_limit_) {
        truncated_ = true;
        output_->add_log({0, job_.id, job_.attempt, "runner", now_rfc3339(),
                          "[drover] log truncated: this attempt wrote more than " + std::to_string(log_limit_) +
                              " bytes (each line counts " + std::to_string(kLogLineOverhead) +
                              " bytes more); the rest is dropped"});
        return;
    }
    output_->add_log({0, job_.id, job_.attempt, std::string(stream), now_rfc3339(), storable_text(line)});
}

void JobControl::progress(std::optional<int> percent, std::optional<std::string> message) {
    if (!output_) return;
    if (message) message = storable_text(utf8_prefix(*message, kMaxProgressMessage));
    output_->set_progress({job_.id, percent, std::move(message)});
}

}  // namespace drover::worker
