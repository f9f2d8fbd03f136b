#include "worker/job_runner.hpp"

#include <spdlog/spdlog.h>

#include "worker/executors/command_executor.hpp"

namespace drover::worker {

JobRunner::JobRunner(const KindRegistry& kinds, const Handlers& handlers, std::filesystem::path jobs_dir, int threads,
                     Done done)
    : kinds_(kinds), handlers_(handlers), jobs_dir_(std::move(jobs_dir)), done_(std::move(done)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

JobRunner::~JobRunner() { stop(); }

void JobRunner::submit(std::shared_ptr<JobControl> job) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(job));
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
        }
        done_(job, run_one(*job));
    }
}

}  // namespace drover::worker
