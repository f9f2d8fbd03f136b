#pragma once
// A pool of at most one thread per slot of the worker's concurrency, that run
// attempts through the executor of their kind and report each result. Threads
// start when work first needs them (an idle worker has none) and then stay.
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/kinds.hpp"
#include "worker/executors/executor.hpp"
#include "worker/handlers.hpp"

namespace drover::worker {

class JobRunner {
public:
    using Done = std::function<void(const std::shared_ptr<JobControl>&, AttemptResult)>;

    JobRunner(const KindRegistry& kinds, const Handlers& handlers, std::filesystem::path jobs_dir, int threads,
              Done done);
    ~JobRunner();

    void submit(std::shared_ptr<JobControl> job);
    // Handlers that finish in microseconds (noop, fail) run on the caller's
    // thread: handing them to a runner thread cost more than the job.
    bool is_instant(const std::string& kind) const {
        const auto* h = handlers_.find(kind);
        return h && h->instant;
    }
    AttemptResult run_now(JobControl& control) { return run_one(control); }
    // Lets queued and running attempts finish, then joins the threads.
    void stop();

private:
    void loop();
    AttemptResult run_one(JobControl& control);

    const KindRegistry& kinds_;
    const Handlers& handlers_;
    std::filesystem::path jobs_dir_;
    Done done_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::shared_ptr<JobControl>> queue_;
    bool stopping_ = false;
    std::size_t max_threads_;
    std::size_t busy_ = 0;  // threads running an attempt
    std::vector<std::thread> threads_;
};

}  // namespace drover::worker
