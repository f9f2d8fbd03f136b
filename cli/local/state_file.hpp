#pragma once
// $DROVER_STATE_DIR/drover.json: what drover start / ensure / up launched
// (pids with their start times, ports, URLs, paths), so that status, stop
// and ensure find the same processes again. Written atomically (a temporary
// file, fsync, rename), mode 0600: it names the key files and database URL.
#include <optional>
#include <string>
#include <vector>

#include "cli/local/processes.hpp"

namespace drover::cli {

struct LocalState {
    std::string mode = "start";  // start (background) or up (foreground)
    std::optional<ProcessRecord> owner;  // drover up itself
    std::string state_dir;
    std::string url;
    std::string admin_url;
    int port = 0;
    int admin_port = 0;
    std::string database_url;
    std::string api_key_file;
    std::string admin_key_file;
    std::string env_file;
    // The local cluster (none when DROVER_DATABASE_URL was given).
    std::string postgres_dir;
    std::optional<ProcessRecord> postgres;  // set only when we started it
    std::vector<ProcessRecord> processes;   // drover-api, drover-worker…

    // Every process we launched (postgres and owner included).
    std::vector<ProcessRecord> all() const;
};

std::string state_file_path(const std::string& state_dir);
// Nothing when there is no state file; throws when it is unreadable.
std::optional<LocalState> read_state(const std::string& state_dir);
void write_state(const LocalState& state);
void remove_state(const std::string& state_dir);

// Writes `content` to `path` atomically with mode 0600.
void write_private_file(const std::string& path, const std::string& content);

// The state folder: --state-dir / DROVER_STATE_DIR, else ~/.local/share/drover.
std::string resolve_state_dir(const std::string& configured);

}  // namespace drover::cli
