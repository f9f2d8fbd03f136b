#pragma once
#include <string>

namespace drover {

// Configures spdlog's default logger for one process: a name, a level
// ("info", "debug", …), output on stderr. Throws ConfigError on a bad level.
void init_logging(const std::string& process_name, const std::string& level);

}  // namespace drover
