#pragma once
// Runs one attempt of one kind of job. Implementations must return promptly
// once control.stop_reason() is set.
#include "worker/job_control.hpp"

namespace drover::worker {

class Executor {
public:
    virtual ~Executor() = default;
    virtual AttemptResult run(JobControl& control) = 0;
};

}  // namespace drover::worker
