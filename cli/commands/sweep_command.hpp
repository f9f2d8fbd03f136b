#pragma once
#include <string>
#include <vector>

#include "core/config.hpp"

namespace drover::cli {

// drover sweep [NAME...] [--dry-run]: runs the storage sweeps (jobs,
// artifacts, uploads, sessions, eviction, reconcile; all when none is named) once, now, and prints
// one JSON line: {"dry_run", "sweeps": {"<name>": {"ran", "records", "blobs",
// "files_deleted"}}}. --dry-run decides and counts, then rolls back and
// deletes nothing. For cron or by hand; workers also run them on their own.
int sweep_command(const Config& config, const std::vector<std::string>& words);

}  // namespace drover::cli
