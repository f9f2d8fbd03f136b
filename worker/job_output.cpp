#include "worker/job_output.hpp"

namespace drover::worker {

void JobOutput::add_log(LogLine line) {
    bool was_empty = false;
    {
        std::lock_guard lock(mutex_);
        was_empty = logs_.empty() && progress_.empty();
        logs_.push_back(std::move(line));
    }
    arrived(was_empty);
}

void JobOutput::set_progress(Progress progress) {
    bool was_empty = false;
    {
        std::lock_guard lock(mutex_);
        was_empty = logs_.empty() && progress_.empty();
        progress_[progress.id] = std::move(progress);
    }
    arrived(was_empty);
}

bool JobOutput::empty() const {
    std::lock_guard lock(mutex_);
    return logs_.empty() && progress_.empty();
}

JobOutput::Batch JobOutput::take() {
    std::lock_guard lock(mutex_);
    Batch b;
    b.logs.swap(logs_);
    for (auto& [id, p] : progress_) b.progress.push_back(std::move(p));
    progress_.clear();
    return b;
}

void JobOutput::put_back(Batch batch) {
    std::lock_guard lock(mutex_);
    batch.logs.insert(batch.logs.end(), std::make_move_iterator(logs_.begin()), std::make_move_iterator(logs_.end()));
    logs_ = std::move(batch.logs);
    for (auto& p : batch.progress) progress_.try_emplace(p.id, std::move(p));
}

}  // namespace drover::worker
