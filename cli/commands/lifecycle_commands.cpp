#include "cli/commands/lifecycle_commands.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "cli/http_client.hpp"
#include "cli/json_line.hpp"
#include "cli/local/local_stack.hpp"
#include "core/error.hpp"

namespace drover::cli {
namespace {

std::string read_key(const std::string& file) {
    std::ifstream in(file);
    std::string key;
    std::getline(in, key);
    return key;
}

int signal_exit(int sig) { return 128 + sig; }

JsonLine ready_line(const EnsureResult& r) {
    JsonLine line;
    line.add("ok", true)
        .add("url", r.state.url)
        .add("admin_url", r.state.admin_url)
        .add("pids", pids_json(r.state))
        .add("started", r.started)
        .add("already_running", r.already_running)
        .add("state_file", state_file_path(r.state.state_dir))
        .add("env_file", r.state.env_file)
        .add("api_key_file", r.state.api_key_file)
        .add("admin_key_file", r.state.admin_key_file);
    if (!r.stale.empty()) line.add("stale_cleaned", r.stale);
    return line;
}

int fail(const std::string& error, const std::string& process = {}, const std::string& log_tail = {}) {
    JsonLine line;
    line.add("ok", false).add("error", error);
    if (!process.empty()) line.add("process", process);
    if (!log_tail.empty()) line.add("log_tail", log_tail);
    line.print();
    std::cerr << "drover: " << error << "\n";
    if (!log_tail.empty()) std::cerr << "--- last lines of its log ---\n" << log_tail;
    return 1;
}

// Runs ensure() and turns its failures into the JSON answer.
template <typename OnReady>
int bring_up(LocalStack& stack, Components want, Detach detach, const std::string& mode, bool refuse,
             OnReady on_ready) {
    EnsureResult result;
    try {
        result = stack.ensure(want, detach, mode, refuse);
    } catch (const StackError& e) {
        return fail(e.what(), e.process, e.log_tail);
    } catch (const Interrupted& i) {
        fail(std::string("interrupted by ") + strsignal(i.signal) + "; stopped what was started");
        return signal_exit(i.signal);
    }
    return on_ready(result);
}

}  // namespace

int start_command(const Config& config) {
    block_stop_signals();
    LocalStack stack(config);
    return bring_up(stack, {}, Detach::session, "start", true, [](const EnsureResult& r) {
        ready_line(r).print();
        return 0;
    });
}

int ensure_command(const Config& config, const std::vector<std::string>& words) {
    Components want{false, false, false};
    for (const auto& w : words) {
        if (w == "--postgres") {
            want.postgres = true;
        } else if (w == "--api") {
            want.api = true;
        } else if (w == "--worker") {
            want.worker = true;
        } else {
            throw ConfigError("drover ensure takes --postgres, --api and --worker, not '" + w + "'");
        }
    }
    if (!want.postgres && !want.api && !want.worker) want = Components{};
    block_stop_signals();
    LocalStack stack(config);
    return bring_up(stack, want, Detach::session, "start", false, [](const EnsureResult& r) {
        ready_line(r).print();
        return 0;
    });
}

int status_command(const Config& config) {
    LocalStack stack(config);
    std::optional<LocalState> state;
    try {
        state = read_state(stack.state_dir());
    } catch (const std::exception& e) {
        remove_state(stack.state_dir());
        JsonLine()
            .add("ok", false)
            .add("running", false)
            .add("stale", true)
            .add("error", std::string(e.what()) + " (removed)")
            .print();
        return exit_not_running;
    }
    if (!state) {
        JsonLine()
            .add("ok", false)
            .add("running", false)
            .add("error", "not running: no state file at " + state_file_path(stack.state_dir()))
            .print();
        return exit_not_running;
    }
    LocalState live = *state;
    auto dead = prune_dead(live);
    if (live.processes.empty() && !live.owner) {
        // Nothing of it runs: the state file is stale. A Postgres we started
        // may still run (the rest was killed): stop it so it is not orphaned.
        if (live.postgres) stack.stop(live);
        remove_state(stack.state_dir());
        JsonLine()
            .add("ok", false)
            .add("running", false)
            .add("stale", true)
            .add("dead", dead)
            .add("error", "stale state file " + state_file_path(stack.state_dir()) +
                              " (its processes are gone or their pids belong to other programs); removed")
            .print();
        return exit_not_running;
    }
    JsonLine line;
    line.add("url", live.url).add("admin_url", live.admin_url).add("mode", live.mode).add("pids", pids_json(live));
    bool ok = dead.empty();
    if (!dead.empty()) {
        line.add("dead", dead);
        // Keep only what lives, so that drover ensure restarts the rest.
        write_state(live);
    }
    bool api_alive = false;
    for (const auto& p : live.processes) api_alive |= p.name == "drover-api";
    if (api_alive) {
        auto answer = http_call("GET", live.url + "/status", read_key(live.api_key_file), {}, 5000);
        if (answer.status == 200) {
            line.add_raw("status", answer.body);
        } else {
            ok = false;
            line.add("status_error", answer.status ? "GET /status answered " + std::to_string(answer.status) + " " +
                                                         answer.body
                                                   : "GET /status: " + answer.error);
        }
    }
    line.add("running", true);
    line.add("ok", ok);
    if (!ok) line.add("error", dead.empty() ? "the API does not answer /status" : "some processes are gone");
    line.print();
    return ok ? 0 : 1;
}

int stop_command(const Config& config) {
    block_stop_signals();
    LocalStack stack(config);
    std::optional<LocalState> state;
    try {
        state = read_state(stack.state_dir());
    } catch (const std::exception& e) {
        remove_state(stack.state_dir());
        return fail(std::string(e.what()) + " (removed)");
    }
    if (!state) {
        JsonLine()
            .add("ok", false)
            .add("error", "not running: no state file at " + state_file_path(stack.state_dir()) +
                              " (already stopped?)")
            .print();
        std::cerr << "drover: not running (no state file at " << state_file_path(stack.state_dir()) << ")\n";
        return exit_not_running;
    }
    LocalState live = *state;
    auto dead = prune_dead(live);
    auto outcome = stack.stop(live);
    JsonLine line;
    line.add("ok", true).add("stopped", outcome.stopped).add("forced", !outcome.forced.empty());
    if (!outcome.forced.empty()) line.add("killed", outcome.forced);
    if (!dead.empty()) line.add("already_gone", dead);
    line.print();
    return 0;
}

int up_command(const Config& config) {
    block_stop_signals();
    LocalStack stack(config);
    return bring_up(stack, {}, Detach::group, "up", true, [&](const EnsureResult& r) {
        ready_line(r).print();
        std::cerr << "\nDrover is running at " << r.state.url << " (admin listener: " << r.state.admin_url << ")\n"
                  << "  state, data and logs: " << r.state.state_dir << "\n"
                  << "  API key (app \"default\", role admin): " << r.state.api_key_file << "\n"
                  << "  operator key (admin listener only):  " << r.state.admin_key_file << "\n\n"
                  << "In another shell:\n"
                  << "  . " << r.state.env_file
                  << "    # sets DROVER_URL, DROVER_API_KEY, DROVER_ADMIN_URL, DROVER_ADMIN_KEY_FILE; drover on PATH\n"
                  << "  curl -sS -X POST \"$DROVER_URL/v1/jobs\" -H \"Authorization: Bearer $DROVER_API_KEY\" "
                     "-d '{\"kind\":\"sleep\",\"args\":{\"ms\":500}}'\n\n"
                  << "DROVER_URL=" << r.state.url << "\nDROVER_API_KEY=" << read_key(r.state.api_key_file)
                  << "\nDROVER_ADMIN_URL=" << r.state.admin_url << "\nDROVER_ADMIN_KEY_FILE=" << r.state.admin_key_file
                  << "\n\nPress Ctrl-C to stop.\n"
                  << std::flush;
        int exit_code = 1;
        for (;;) {
            int sig = wait_signal(std::chrono::milliseconds(500), true);
            if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
                std::cerr << "drover: " << strsignal(sig) << ": stopping\n";
                exit_code = signal_exit(sig);
                break;
            }
            const ProcessRecord* gone = nullptr;
            std::optional<int> status;
            for (const auto& p : r.state.processes) {
                if ((status = reap(p.pid))) {
                    gone = &p;
                    break;
                }
            }
            if (gone) {
                std::cerr << "drover: " << gone->name << " exited with status " << *status
                          << "; stopping the rest. Last lines of " << gone->log << ":\n"
                          << tail_file(gone->log);
                break;
            }
        }
        LocalState own = r.state;
        own.owner.reset();
        auto outcome = stack.stop(own);
        std::cerr << "drover: stopped " << outcome.stopped.size() << " processes"
                  << (outcome.forced.empty() ? "" : " (some needed SIGKILL)") << "\n";
        return exit_code;
    });
}

}  // namespace drover::cli
