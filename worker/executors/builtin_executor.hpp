#pragma once
// The built-in kinds, run in-process: noop, sleep {"ms"}, fail {"permanent", "message"}.
#include "worker/executors/executor.hpp"

namespace drover::worker {

class BuiltinExecutor : public Executor {
public:
    AttemptResult run(JobControl& control) override;
};

}  // namespace drover::worker
