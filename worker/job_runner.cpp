#include "worker/job_runner.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <system_error>

#include "worker/executors/command_executor.hpp"

namespace drover::worker {

JobRunner::JobRunner(const KindRegistry& kinds, const Handlers& handlers, std::filesystem::path jobs_dir, int threads,
                     Done done, const Sandbox& sandbox)
    : kinds_(kinds),
      handlers_(handlers),
      jobs_dir_(std::move(jobs_dir)),
      done_(std::move(done)),
      max_threads_(static_cast<std::size_t>(std::max(threads, 1))),
      sandbox_(sandbox),
      spares_(sandbox.enabled() ? nullptr : std::make_unique<SpareFolders>(jobs_dir_)) {
    threads_.reserve(max_threads_);
}

JobRunner::~JobRunner() { stop(); }

void JobRunner::submit(std::shared_ptr<JobControl> job) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(job));
        // A new thread only when every thread is taken: an idle worker keeps
        // none (each costs a stack and its TLS), a busy one ends up with one
        // per slot.
        if (!stopping_ && threads_.size() < max_threads_ && busy_ + queue_.size() > threads_.size()) {
            try {
                threads_.emplace_back([this] { loop(); });
            } catch (const std::system_error& e) {
                if (threads_.empty()) throw;
                spdlog::warn("cannot start a runner thread ({}); {} threads run the jobs", e.what(), threads_.size());
            }
        }
    }
    ready_.notify_one();
}

void JobRunner::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
}

std::shared_ptr<JobControl> JobRunner::withdraw(std::int64_t id) {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(queue_.begin(), queue_.end(), [&](const auto& c) { return c->job().id == id; });
    if (it == queue_.end()) return nullptr;
    auto out = std::move(*it);
    queue_.erase(it);
    return out;
}

std::vector<std::shared_ptr<JobControl>> JobRunner::withdraw_claimed_before(std::chrono::steady_clock::time_point before) {
    std::vector<std::shared_ptr<JobControl>> out;
    std::lock_guard lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
        if ((*it)->claimed_at() < before) {
            out.push_back(std::move(*it));
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

std::vector<std::shared_ptr<JobControl>> JobRunner::withdraw_all() {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<JobControl>> out(std::make_move_iterator(queue_.begin()),
                                                 std::make_move_iterator(queue_.end()));
    queue_.clear();
    return out;
}

std::optional<std::chrono::steady_clock::time_point> JobRunner::oldest_waiting() {
    std::lock_guard lock(mutex_);
    std::optional<std::chrono::steady_clock::time_point> out;
    for (const auto& c : queue_) {
        if (!out || c->claimed_at() < *out) out = c->claimed_at();
    }
    return out;
}

AttemptResult JobRunner::run_one(JobControl& control) {
    const Kind* kind = kinds_.find(control.job().kind);
    if (!kind) {
        // The API only accepts known kinds, but this worker's kinds file may be
        // older than the API's: leave the job for a worker that knows it.
        return AttemptResult::retry("this worker has no kind named " + control.job().kind);
    }
    try {
        if (kind->type == Kind::Type::command) {
            return CommandExecutor(*kind, jobs_dir_, sandbox_, spares_.get()).run(control);
        }
        const auto* handler = handlers_.find(kind->name);
        if (!handler) return AttemptResult::retry("this worker has no handler for in-process kind " + kind->name);
        return handler->run(control);
    } catch (const std::exception& e) {
        return AttemptResult::retry(std::string("worker error: ") + e.what());
    }
}

void JobRunner::loop() {
    for (;;) {
        std::shared_ptr<JobControl> job;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            job = std::move(queue_.front());
            queue_.pop_front();
            ++busy_;
        }
        if (job->stop_reason() != StopReason::none) {
            // Stopped while it waited (a cancel, a lost lease, shutdown):
            // never started; the worker turns this into the right outcome.
            done_(job, AttemptResult::retry("stopped before it started"));
        } else {
            job->mark_started();
            done_(job, run_one(*job));
        }
        std::lock_guard lock(mutex_);
        --busy_;
    }
}

}  // namespace drover::worker
