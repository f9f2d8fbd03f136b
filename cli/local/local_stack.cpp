#include "cli/local/local_stack.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/http_client.hpp"
#include "cli/local/local_postgres.hpp"
#include "core/db/connection.hpp"
#include "core/db/migrator.hpp"
#include "core/store/key_store.hpp"

namespace drover::cli {
namespace {

namespace fs = std::filesystem;

constexpr auto ready_timeout = std::chrono::seconds(60);
// A worker that cannot start (bad setting, bad kinds file) exits within
// milliseconds; one that lived this long after the API was ready has started.
constexpr auto worker_settle = std::chrono::milliseconds(500);

void note(const std::string& line) { std::cerr << "drover: " << line << "\n"; }

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

// Binds port 0 to let the kernel pick; `port` > 0 checks that one instead.
int bind_port(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    int result = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        result = ntohs(addr.sin_port);
    }
    close(fd);
    return result;
}

// The port a listener gets: the environment's when set, else the one it
// had last time (stable URLs across restarts) while it is free, else any.
int choose_port(const char* env_name, int previous) {
    std::string configured = env_or(env_name, "");
    if (!configured.empty() && configured != "0") {
        int port = std::atoi(configured.c_str());
        if (bind_port(port) == 0) throw StackError(std::string(env_name) + "=" + configured + " is already in use");
        return port;
    }
    if (previous > 0 && bind_port(previous) == previous) return previous;
    int port = bind_port(0);
    if (port == 0) throw StackError("no free TCP port on 127.0.0.1");
    return port;
}

std::string bin_dir() { return fs::read_symlink("/proc/self/exe").parent_path().string(); }

std::string read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// Keeps a working key in `file` (mode 0600): a new one when the file is
// missing or its key is unknown or revoked in this database.
std::string ensure_key(db::Connection& conn, const std::string& file, const std::optional<std::string>& app) {
    KeyStore keys(conn);
    std::string key = read_first_line(file);
    if (!key.empty()) {
        if (auto prefix = key_prefix(key)) {
            auto record = keys.find(*prefix);
            if (record && !record->revoked) return key;
        }
        note("the key in " + file + " is not valid in this database; making a new one");
    }
    auto created = keys.create(app, app ? Role::admin : Role::operator_, "drover start");
    write_private_file(file, created.plaintext + "\n");
    return created.plaintext;
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void write_env_file(const LocalState& s, const std::string& api_key) {
    std::string text = "# Written by drover start/up. Use it with: . " + s.env_file + "\n";
    text += "export DROVER_URL=" + shell_quote(s.url) + "\n";
    text += "export DROVER_API_KEY=" + shell_quote(api_key) + "\n";
    text += "export DROVER_ADMIN_URL=" + shell_quote(s.admin_url) + "\n";
    text += "export DROVER_ADMIN_KEY_FILE=" + shell_quote(s.admin_key_file) + "\n";
    text += "export PATH=" + shell_quote(bin_dir()) + ":\"$PATH\"\n";
    write_private_file(s.env_file, text);
}

void rotate_log(const std::string& path) {
    std::error_code ec;
    if (fs::exists(path, ec)) fs::rename(path, path + ".1", ec);
}

void check_signal() {
    if (int s = wait_signal(std::chrono::milliseconds(0))) throw Interrupted{s};
}

}  // namespace

std::vector<std::string> prune_dead(LocalState& state) {
    std::vector<std::string> dead;
    auto describe = [](const ProcessRecord& p, Liveness l) {
        std::string d = p.name + " pid " + std::to_string(p.pid) + ": " + liveness_name(l);
        if (l == Liveness::reused) d += " (now " + process_cmdline(p.pid) + ")";
        return d;
    };
    std::vector<ProcessRecord> kept;
    for (const auto& p : state.processes) {
        auto l = liveness(p);
        if (l == Liveness::alive) {
            kept.push_back(p);
        } else {
            dead.push_back(describe(p, l));
        }
    }
    state.processes = kept;
    if (state.postgres) {
        auto l = liveness(*state.postgres);
        if (l != Liveness::alive) {
            dead.push_back(describe(*state.postgres, l));
            state.postgres.reset();
        }
    }
    if (state.owner) {
        auto l = liveness(*state.owner);
        if (l != Liveness::alive) {
            dead.push_back(describe(*state.owner, l));
            state.owner.reset();
        }
    }
    return dead;
}

JsonLine pids_json(const LocalState& state) {
    JsonLine pids;
    std::string worker_list = "[";
    for (const auto& p : state.processes) {
        if (p.name == "drover-api") pids.add("api", static_cast<std::int64_t>(p.pid));
        if (p.name == "drover-worker") {
            if (worker_list.size() > 1) worker_list += ",";
            worker_list += std::to_string(p.pid);
        }
    }
    pids.add_raw("workers", worker_list + "]");
    if (state.postgres) {
        pids.add("postgres", static_cast<std::int64_t>(state.postgres->pid));
    } else {
        pids.add_null("postgres");
    }
    if (state.owner) pids.add("up", static_cast<std::int64_t>(state.owner->pid));
    return pids;
}

LocalStack::LocalStack(const Config& config) : config_(config), state_dir_(resolve_state_dir(config.str("state_dir"))) {}

std::chrono::milliseconds LocalStack::stop_grace() const {
    return std::chrono::seconds(config_.integer("shutdown_grace_s") + 5);
}

std::string LocalStack::ensure_database(LocalState& s, EnsureResult& r) {
    std::string explicit_url = env_or("DROVER_DATABASE_URL", "");
    if (explicit_url.empty() && config_.str("database_url") != "postgres:///drover") {
        explicit_url = config_.str("database_url");
    }
    if (!explicit_url.empty()) {
        s.postgres_dir.clear();
        s.postgres.reset();
        return explicit_url;
    }
    LocalPostgres pg(state_dir_ + "/pg");
    s.postgres_dir = pg.dir();
    if (auto live = pg.running()) {
        // Ours if the state file says we started it; else someone else's
        // (scripts/run, an earlier drover up): used, never stopped.
        if (!s.postgres || s.postgres->pid != live->pid) s.postgres.reset();
        r.already_running.push_back("postgres");
        return pg.url();
    }
    note("starting PostgreSQL in " + pg.dir());
    std::string url;
    try {
        url = pg.start();
    } catch (const std::exception& e) {
        throw StackError(e.what(), "postgres", tail_file(pg.home() + "/postgres.log"));
    }
    s.postgres = pg.running();
    if (!s.postgres) throw StackError("PostgreSQL started but its postmaster.pid names no live process", "postgres");
    r.started.push_back("postgres");
    return url;
}

EnsureResult LocalStack::ensure(Components want, Detach detach, const std::string& mode, bool refuse_running) {
    EnsureResult r;
    LocalState& s = r.state;
    try {
        if (auto previous = read_state(state_dir_)) s = *previous;
    } catch (const std::exception& e) {
        note(std::string(e.what()) + "; starting afresh");
    }
    s.state_dir = state_dir_;
    r.stale = prune_dead(s);
    for (const auto& d : r.stale) note("stale entry in " + state_file_path(state_dir_) + ": " + d);
    bool api_running = false, worker_running = false;
    for (const auto& p : s.processes) {
        api_running |= p.name == "drover-api";
        worker_running |= p.name == "drover-worker";
    }
    if (refuse_running && (!s.processes.empty() || s.owner)) {
        std::string pids;
        for (const auto& p : s.all()) pids += (pids.empty() ? "" : ", ") + p.name + " " + std::to_string(p.pid);
        throw StackError("Drover is already running from " + state_dir_ + " (" + pids +
                         "): drover status, drover stop, or drover ensure");
    }
    s.mode = mode;
    if (mode == "up") {
        s.owner = ProcessRecord{"drover up", getpid(), process_start_time(getpid()).value_or(0), ""};
    }
    fs::create_directories(state_dir_ + "/logs");
    s.api_key_file = state_dir_ + "/api-key";
    s.admin_key_file = state_dir_ + "/admin-key";
    s.env_file = state_dir_ + "/env";

    // Everything started from here on is stopped again if a later step fails.
    std::vector<ProcessRecord> fresh;
    bool started_postgres = false;
    try {
        s.database_url = ensure_database(s, r);
        started_postgres = !r.started.empty();
        check_signal();
        if (api_running) r.already_running.push_back("drover-api");
        if (worker_running) r.already_running.push_back("drover-worker");
        if (!want.api && !want.worker) {
            write_state(s);
            return r;
        }
        std::string api_key;
        try {
            db::Connection conn(s.database_url, "drover-start");
            if (!s.postgres_dir.empty()) {
                int applied = db::Migrator(conn).up();
                if (applied > 0) note("applied " + std::to_string(applied) + " migrations");
            }
            api_key = ensure_key(conn, s.api_key_file, std::string("default"));
            ensure_key(conn, s.admin_key_file, std::nullopt);
        } catch (const std::exception& e) {
            throw StackError(std::string("database: ") + e.what(), "postgres",
                             s.postgres_dir.empty() ? "" : tail_file(LocalPostgres(s.postgres_dir).home() + "/postgres.log"));
        }
        check_signal();

        std::string bin = bin_dir();
        std::string logs = state_dir_ + "/logs";
        if (want.api && !api_running) {
            s.port = choose_port("DROVER_PORT", s.port);
            s.admin_port = choose_port("DROVER_ADMIN_PORT", s.admin_port);
        }
        std::string host = env_or("DROVER_HOST", "127.0.0.1");
        std::string url_host = host == "0.0.0.0" ? "127.0.0.1" : host;
        s.url = "http://" + url_host + ":" + std::to_string(s.port);
        std::string admin_host = env_or("DROVER_ADMIN_HOST", "127.0.0.1");
        s.admin_url = "http://" + (admin_host == "0.0.0.0" ? std::string("127.0.0.1") : admin_host) + ":" +
                      std::to_string(s.admin_port);
        std::map<std::string, std::string> env = {
            {"DROVER_DATABASE_URL", s.database_url},
            {"DROVER_STATE_DIR", state_dir_},
            {"DROVER_HOST", host},
            {"DROVER_PORT", std::to_string(s.port)},
            {"DROVER_ADMIN_HOST", admin_host},
            {"DROVER_ADMIN_PORT", std::to_string(s.admin_port)},
        };
        if (want.api && !api_running) {
            rotate_log(logs + "/api.log");
            fresh.push_back(spawn("drover-api", bin + "/drover-api", {}, env, logs + "/api.log", detach));
            r.started.push_back("drover-api");
        }
        if (want.worker && !worker_running) {
            rotate_log(logs + "/worker.log");
            fresh.push_back(spawn("drover-worker", bin + "/drover-worker", {}, env, logs + "/worker.log", detach));
            r.started.push_back("drover-worker");
        }
        s.processes.insert(s.processes.end(), fresh.begin(), fresh.end());
        write_state(s);
        write_env_file(s, api_key);
        wait_ready(s, fresh);
        return r;
    } catch (...) {
        // Leave nothing running that this call started.
        stop_processes(fresh, stop_grace());
        if (started_postgres) {
            try {
                LocalPostgres(s.postgres_dir).stop();
            } catch (const std::exception& e) {
                note(std::string("could not stop PostgreSQL: ") + e.what());
            }
        }
        LocalState left = s;
        left.processes.clear();
        for (const auto& p : s.processes) {
            bool ours = false;
            for (const auto& f : fresh) ours |= f.pid == p.pid;
            if (!ours) left.processes.push_back(p);
        }
        if (started_postgres) left.postgres.reset();
        left.owner.reset();
        if (left.processes.empty() && !left.postgres) {
            remove_state(state_dir_);
        } else {
            write_state(left);
        }
        throw;
    }
}

void LocalStack::wait_ready(const LocalState& s, const std::vector<ProcessRecord>& fresh) {
    auto deadline = std::chrono::steady_clock::now() + ready_timeout;
    auto died = [&]() -> const ProcessRecord* {
        for (const auto& p : fresh) {
            if (auto status = reap(p.pid)) {
                throw StackError(p.name + " exited with status " + std::to_string(*status) + " while starting (log: " +
                                     p.log + ")",
                                 p.name, tail_file(p.log));
            }
        }
        return nullptr;
    };
    bool api_fresh = false;
    for (const auto& p : fresh) api_fresh |= p.name == "drover-api";
    if (api_fresh) {
        for (;;) {
            died();
            auto answer = http_call("GET", s.url + "/readyz", "", {}, 1000);
            if (answer.status == 200) break;
            if (std::chrono::steady_clock::now() >= deadline) {
                std::string why = answer.status ? "answered " + std::to_string(answer.status) + " " + answer.body
                                                 : answer.error;
                throw StackError(s.url + "/readyz was not ready within 60 s (" + why + ")", "drover-api",
                                 tail_file(fresh.front().log));
            }
            if (int sig = wait_signal(std::chrono::milliseconds(100))) throw Interrupted{sig};
        }
    }
    // Give a fresh worker a moment to fail on its settings before calling it up.
    auto settle = std::chrono::steady_clock::now() + worker_settle;
    while (std::chrono::steady_clock::now() < settle) {
        died();
        if (int sig = wait_signal(std::chrono::milliseconds(50))) throw Interrupted{sig};
    }
    died();
}

StopOutcome LocalStack::stop(const LocalState& state) {
    StopOutcome outcome;
    // drover up stops its own children: ask it, then make sure.
    if (state.owner && liveness(*state.owner) == Liveness::alive && state.owner->pid != getpid()) {
        outcome = stop_processes({*state.owner}, stop_grace() + std::chrono::seconds(10));
    }
    auto rest = stop_processes(state.processes, stop_grace());
    outcome.stopped.insert(outcome.stopped.end(), rest.stopped.begin(), rest.stopped.end());
    outcome.forced.insert(outcome.forced.end(), rest.forced.begin(), rest.forced.end());
    if (state.postgres && liveness(*state.postgres) == Liveness::alive) {
        try {
            LocalPostgres(state.postgres_dir).stop();
            outcome.stopped.push_back("postgres (pid " + std::to_string(state.postgres->pid) + ")");
        } catch (const std::exception& e) {
            note(std::string("pg_ctl stop failed (") + e.what() + "); killing the postmaster");
            auto forced = stop_processes({*state.postgres}, std::chrono::seconds(10));
            outcome.forced.insert(outcome.forced.end(), forced.forced.begin(), forced.forced.end());
        }
    }
    remove_state(state.state_dir.empty() ? state_dir_ : state.state_dir);
    return outcome;
}

}  // namespace drover::cli
