#include "worker/job_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>

#include "worker/executors/command_executor.hpp"

namespace drover::worker {

JobRunner::JobRunner(const KindRegistry& kinds, const Handlers& handlers, std::filesystem::path jobs_dir, int threads,
                     Done done)
    : kinds_(kinds),
      handlers_(handlers),
      jobs_dir_(std::move(jobs_dir)),
      done_(std::move(done)),
      max_threads_(static_cast<std::size_t>(std::max(threads, 1))) {
    threads_.reserve(max_threads_);
}

JobRunner::~JobRunner() { stop(); }

void JobRunner::submit(std::shared_ptr<JobControl> job) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(job));
        // A new thread only when every thread is taken: an idle worker keeps
        // none (each costs a stack and its TLS), a busy one ends up with one
        // per slot, as before.
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

AttemptResult JobRunner::run_one(JobControl& control) {
    const Kind* kind = kinds_.find(control.job().kind);
    if (!kind) {
        // The API only accepts known kinds, but this worker's kinds file may be
        // older than the API's: leave the job for a worker that knows it.
        return AttemptResult::retry("this worker has no kind named " + control.job().kind);
    }
    try {
        if (kind->type == Kind::Type::command) return CommandExecutor(*kind, jobs_dir_).run(control);
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
        done_(job, run_one(*job));
        std::lock_guard lock(mutex_);
        --busy_;
    }
}

}  // namespace drover::worker
