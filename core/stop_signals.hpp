#pragma once
// How Drover's servers receive SIGTERM and SIGINT: blocked in every thread
// (call before starting any), then taken one at a time with wait(). SIGPIPE is
// ignored: a peer that hangs up mid-write must not kill the process. Child
// processes get default handling back (see CommandExecutor).
#include <signal.h>

namespace drover {

class StopSignals {
public:
    StopSignals();
    // Blocks until SIGTERM or SIGINT arrives; returns which.
    int wait() const;

private:
    sigset_t set_;
};

}  // namespace drover
