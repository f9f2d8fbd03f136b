#pragma once
// What running jobs produce between two flushes of the coordinator: log lines
// and their latest progress. Jobs add from their runner threads; the
// coordinator takes everything and writes it in one statement each
// (jobs/append_logs, jobs/set_progress), putting it back if the database is
// away.
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "core/store/job_store.hpp"

namespace drover::worker {

class JobOutput {
public:
    struct Batch {
        std::vector<LogLine> logs;
        std::vector<Progress> progress;
        bool empty() const { return logs.empty() && progress.empty(); }
    };

    // Called (outside the lock) when output arrives and there was none: the
    // coordinator schedules a flush.
    void on_arrival(std::function<void()> callback) { on_arrival_ = std::move(callback); }

    void add_log(LogLine line);
    void set_progress(Progress progress);
    bool empty() const;
    Batch take();
    // Returns a batch that could not be written, ahead of anything newer.
    void put_back(Batch batch);

private:
    void arrived(bool was_empty) {
        if (was_empty && on_arrival_) on_arrival_();
    }

    std::function<void()> on_arrival_;
    mutable std::mutex mutex_;
    std::vector<LogLine> logs_;
    std::map<std::int64_t, Progress> progress_;  // only the latest per job matters
};

}  // namespace drover::worker
