#pragma once
// A whole Drover on this machine, as drover start, ensure and up bring it up:
// a local Postgres (unless DROVER_DATABASE_URL is given), migrations, an API
// key of the app "default" (role admin) and an operator key in the state
// folder, drover-api on a free port (or DROVER_PORT) and one drover-worker,
// recorded in the state file, ready once /readyz answers 200.
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/json_line.hpp"
#include "cli/local/processes.hpp"
#include "cli/local/state_file.hpp"
#include "core/config.hpp"

namespace drover::cli {

struct Components {
    bool postgres = true;
    bool api = true;
    bool worker = true;
};

// Why bringing it up failed: the reason, the process that failed and the
// end of its log.
class StackError : public std::runtime_error {
public:
    StackError(const std::string& what, std::string process = {}, std::string log_tail = {})
        : std::runtime_error(what), process(std::move(process)), log_tail(std::move(log_tail)) {}
    std::string process;
    std::string log_tail;
};

// A stop signal arrived while bringing it up (what it started is stopped).
struct Interrupted {
    int signal;
};

struct EnsureResult {
    LocalState state;
    std::vector<std::string> started;          // postgres, drover-api, drover-worker
    std::vector<std::string> already_running;
    std::vector<std::string> stale;            // entries of a dead state file, cleaned
};

class LocalStack {
public:
    explicit LocalStack(const Config& config);

    const std::string& state_dir() const { return state_dir_; }
    // Brings up what `want` names and is not running. refuse_running: fail
    // (start, up) when something of the state file still runs.
    // Throws StackError or Interrupted, having stopped what it started.
    EnsureResult ensure(Components want, Detach detach, const std::string& mode, bool refuse_running);

    // Stops the given state's processes (and its Postgres when we started
    // it), removes the state file. Returns what was stopped and forced.
    StopOutcome stop(const LocalState& state);

    // How long stop waits before SIGKILL: the worker's grace plus 5 s.
    std::chrono::milliseconds stop_grace() const;

private:
    std::string ensure_database(LocalState& s, EnsureResult& r);
    void wait_ready(const LocalState& s, const std::vector<ProcessRecord>& fresh);

    const Config& config_;
    std::string state_dir_;
};

// Drops entries whose process is gone or reused; returns them described
// ("drover-api pid 12: gone").
std::vector<std::string> prune_dead(LocalState& state);

// JSON of the pids: {"api": 1, "workers": [2], "postgres": 3|null}.
JsonLine pids_json(const LocalState& state);

}  // namespace drover::cli
