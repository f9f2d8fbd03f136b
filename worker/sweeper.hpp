#pragma once
// The worker's periodic sweeps (the lease rescue, and the job folders of dead
// workers on this host), on a thread and a
// database connection of their own: a rescue of 10 x 1,000 rows once ran on
// the claim connection, inside the coordinator, delaying claims, completions
// and heartbeats meanwhile. Each sweep takes a transaction-level advisory
// lock, so across all workers on all hosts one runs it at a time; the
// interval is jittered so that workers started together do not contend in
// step. A failing sweep is logged and tried again at the next interval: it
// never stops the worker.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <thread>

#include "core/kinds.hpp"
#include "core/sweeps/storage_sweeps.hpp"

namespace drover::worker {

class Sweeper {
public:
    // local_sweep: run at each interval too, for what is per host rather
    // than per database (the job folders of dead workers).
    // storage: the storage sweeps (core/sweeps/storage_sweeps.hpp), run every
    // storage_interval on the same thread and connection; none: not run.
    Sweeper(std::string database_url, std::chrono::milliseconds interval, std::map<std::string, Backoff> backoffs,
            std::function<void()> local_sweep = {}, std::optional<StorageSweepSettings> storage = std::nullopt,
            std::chrono::milliseconds storage_interval = std::chrono::milliseconds(60000));
    ~Sweeper();
    Sweeper(const Sweeper&) = delete;
    Sweeper& operator=(const Sweeper&) = delete;

    void start();
    void stop();  // waits for a sweep in progress to end

private:
    void loop();

    std::string database_url_;
    std::chrono::milliseconds interval_;
    std::map<std::string, Backoff> backoffs_;
    std::function<void()> local_sweep_;
    std::optional<StorageSweepSettings> storage_;
    std::chrono::milliseconds storage_interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace drover::worker
