#pragma once
#include "core/config.hpp"

namespace drover::cli {

// drover rescue: runs the lease rescue once, now, and prints what it did as
// one JSON line. For cron or by hand; workers also run it on their own.
int rescue_command(const Config& config);

}  // namespace drover::cli
