#pragma once
// Command kinds: the kind's argv run in the job's sandbox (sandbox.hpp), in a
// fresh folder of its own for this attempt (job_folder.hpp), removed when
// the attempt ends, with every process the job started (without the
// sandbox, a folder left untouched goes to the next attempt instead). The job's arguments
// arrive as JSON on stdin and in DROVER_ARGS. Exit 0 succeeds; an exit code
// the kind lists as permanent fails at once; any other ending (other codes,
// signals, timeout) is retryable.
#include <filesystem>

#include "core/kinds.hpp"
#include "worker/executors/executor.hpp"
#include "worker/executors/job_folder.hpp"
#include "worker/executors/sandbox.hpp"

namespace drover::worker {

class CommandExecutor : public Executor {
public:
    // jobs_dir: where the attempt's folder goes (the worker's JobFolders::dir());
    // spares: folders to reuse when the sandbox is off (nullptr: none).
    CommandExecutor(const Kind& kind, std::filesystem::path jobs_dir, const Sandbox& sandbox,
                    SpareFolders* spares = nullptr, std::chrono::milliseconds kill_grace = std::chrono::seconds(5))
        : kind_(kind), jobs_dir_(std::move(jobs_dir)), sandbox_(sandbox), spares_(spares), kill_grace_(kill_grace) {}

    AttemptResult run(JobControl& control) override;

private:
    const Kind& kind_;
    std::filesystem::path jobs_dir_;
    const Sandbox& sandbox_;
    SpareFolders* spares_;
    std::chrono::milliseconds kill_grace_;
};

}  // namespace drover::worker
