#include "core/stop_signals.hpp"

#include <pthread.h>

namespace drover {

StopSignals::StopSignals() {
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int StopSignals::wait() const {
    int signal_number = 0;
    sigwait(&set_, &signal_number);
    return signal_number;
}

}  // namespace drover
