#pragma once
// Command kinds: the kind's argv run as a child process in a folder of its
// own while it runs (a JobFolder, reused by the runner thread's next job),
// in its own process group so that a stop
// reaches everything it started. The job's arguments arrive as JSON on stdin
// and in DROVER_ARGS. Exit 0 succeeds; an exit code the kind lists as
// permanent fails at once; any other ending (other codes, signals, timeout)
// is retryable.
#include <filesystem>

#include "core/kinds.hpp"
#include "worker/executors/executor.hpp"
#include "worker/executors/job_folder.hpp"

namespace drover::worker {

class CommandExecutor : public Executor {
public:
    CommandExecutor(const Kind& kind, JobFolder& folder, std::chrono::milliseconds kill_grace = std::chrono::seconds(5))
        : kind_(kind), folder_(folder), kill_grace_(kill_grace) {}

    AttemptResult run(JobControl& control) override;

private:
    const Kind& kind_;
    JobFolder& folder_;
    std::chrono::milliseconds kill_grace_;
};

}  // namespace drover::worker
