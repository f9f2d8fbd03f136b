#pragma once
// Command kinds: the kind's argv run as a child process in the job's own
// folder (<state_dir>/jobs/<id>), in its own process group so that a stop
// reaches everything it started. The job's arguments arrive as JSON on stdin
// and in DROVER_ARGS. Exit 0 succeeds; an exit code the kind lists as
// permanent fails at once; any other ending (other codes, signals, timeout)
// is retryable.
#include <filesystem>

#include "core/kinds.hpp"
#include "worker/executors/executor.hpp"

namespace drover::worker {

class CommandExecutor : public Executor {
public:
    CommandExecutor(const Kind& kind, std::filesystem::path jobs_dir,
                    std::chrono::milliseconds kill_grace = std::chrono::seconds(5))
        : kind_(kind), jobs_dir_(std::move(jobs_dir)), kill_grace_(kill_grace) {}

    AttemptResult run(JobControl& control) override;

private:
    const Kind& kind_;
    std::filesystem::path jobs_dir_;
    std::chrono::milliseconds kill_grace_;
};

}  // namespace drover::worker
