#pragma once
#include "core/config.hpp"

namespace drover::cli {

// drover migrate [up|status]: applies the embedded migrations (the same files
// dbmate reads) or lists which are applied. Returns the exit code.
int migrate_command(const Config& config, const std::string& action);

}  // namespace drover::cli
