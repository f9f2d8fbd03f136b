#pragma once
// A pool of at most one thread per slot of the worker's concurrency, that run
// attempts through the executor of their kind and report each result. Threads
// start when work first needs them (an idle worker has none) and then stay.
// Command jobs run in the sandbox, each attempt in a fresh folder under
// jobs_dir. Jobs submitted while every thread is busy wait in
// a queue (the worker's prefetched jobs) until a thread frees or the worker
// withdraws them.
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/kinds.hpp"
#include "worker/executors/executor.hpp"
#include "worker/executors/job_folder.hpp"
#include "worker/executors/sandbox.hpp"
#include "worker/handlers.hpp"

namespace drover::worker {

class JobRunner {
public:
    using Done = std::function<void(const std::shared_ptr<JobControl>&, AttemptResult)>;

    // jobs_dir: where attempt folders go (the worker's JobFolders::dir()).
    JobRunner(const KindRegistry& kinds, const Handlers& handlers, std::filesystem::path jobs_dir, int threads,
              Done done, const Sandbox& sandbox = Sandbox::unsandboxed());
    ~JobRunner();

    void submit(std::shared_ptr<JobControl> job);
    // Handlers that finish in microseconds (noop, fail) run on the caller's
    // thread: handing them to a runner thread cost more than the job.
    bool is_instant(const std::string& kind) const {
        const auto* h = handlers_.find(kind);
        return h && h->instant;
    }
    AttemptResult run_now(JobControl& control) { return run_one(control); }
    // Takes back waiting (not started) jobs: the one with this id, those
    // claimed before `before`, or all. What a thread already took is not returned.
    std::shared_ptr<JobControl> withdraw(std::int64_t id);
    std::vector<std::shared_ptr<JobControl>> withdraw_claimed_before(std::chrono::steady_clock::time_point before);
    std::vector<std::shared_ptr<JobControl>> withdraw_all();
    // When the longest-waiting job was claimed (none: nothing waits).
    std::optional<std::chrono::steady_clock::time_point> oldest_waiting();
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
    const Sandbox& sandbox_;
    // Without the sandbox: attempt folders left untouched, for the next attempts (job_folder.hpp).
    std::unique_ptr<SpareFolders> spares_;
    std::vector<std::thread> threads_;
};

}  // namespace drover::worker
