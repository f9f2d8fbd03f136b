#pragma once
// drover start | status | stop | ensure | up: a whole Drover on this machine
// (see cli/local/local_stack.hpp). Each prints one JSON line on stdout; what
// happens meanwhile goes to stderr. Exit codes: 0 done, 1 failed, 3 not
// running (status, stop), 130 / 143 stopped by SIGINT / SIGTERM.
#include <string>
#include <vector>

#include "core/config.hpp"

namespace drover::cli {

constexpr int exit_not_running = 3;

int start_command(const Config& config);
int status_command(const Config& config);
int stop_command(const Config& config);
// words: --postgres, --api, --worker (none: all three)
int ensure_command(const Config& config, const std::vector<std::string>& words);
int up_command(const Config& config);

}  // namespace drover::cli
