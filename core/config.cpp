#include "core/config.hpp"

#include <charconv>
#include <cstdlib>
#include <sstream>

#include "core/error.hpp"

namespace drover {
namespace {

constexpr unsigned api = static_cast<unsigned>(Part::api);
constexpr unsigned worker = static_cast<unsigned>(Part::worker);
constexpr unsigned cli = static_cast<unsigned>(Part::cli);

const Setting* find_setting(std::string_view name) {
    for (const auto& s : all_settings()) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

std::string flag_name(std::string_view name) {
    std::string out = "--";
    for (char c : name) out += c == '_' ? '-' : c;
    return out;
}

void check_value(const Setting& s, const std::string& value) {
    if (!s.integer || value.empty()) return;
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || ptr != value.data() + value.size() || n < 0) {
        throw ConfigError(std::string(s.env) + " must be a non-negative integer, got '" + value + "'");
    }
}

}  // namespace

const std::vector<Setting>& all_settings() {
    static const std::vector<Setting> table = {
        {"database_url", "DROVER_DATABASE_URL", "postgres:///drover",
         "PostgreSQL connection URL (libpq syntax)", api | worker | cli},
        {"log_level", "DROVER_LOG_LEVEL", "info", "trace, debug, info, warn, error or off",
         api | worker | cli},
        {"kinds_file", "DROVER_KINDS_FILE", "",
         "JSON file declaring command kinds (see docs/kinds.md); built-in kinds always exist",
         api | worker | cli},
        {"host", "DROVER_HOST", "127.0.0.1", "address the API listens on", api},
        {"port", "DROVER_PORT", "8080", "port the API listens on", api, true},
        {"api_threads", "DROVER_API_THREADS", "2", "HTTP reactor threads", api, true},
        {"api_db_connections", "DROVER_API_DB_CONNECTIONS", "4",
         "database connections (and threads) the API runs queries on, off the reactor", api, true},
        {"api_queue_limit", "DROVER_API_QUEUE_LIMIT", "1024",
         "requests waiting for a database connection before the API answers 503", api, true},
        {"max_request_bytes", "DROVER_MAX_REQUEST_BYTES", "1048576",
         "largest request (line, headers and body) the API accepts; larger gets 413", api, true},
        {"statement_timeout_ms", "DROVER_STATEMENT_TIMEOUT_MS", "10000",
         "longest a single API query may run before it is cancelled", api, true},
        {"auth", "DROVER_AUTH", "on",
         "on: every request but /healthz and /readyz needs an API key; off: for local experiments only, every "
         "public request acts for the app 'default' as admin, unchecked",
         api},
        {"auth_cache_ms", "DROVER_AUTH_CACHE_MS", "900",
         "how long an API process trusts a key it looked up (at most 1000): a revoked key is refused by every "
         "process within this time (0: look the key up on every request)",
         api, true},
        {"root_path", "DROVER_ROOT_PATH", "",
         "path prefix of every public route, for a reverse proxy that forwards /prefix/... unchanged "
         "(e.g. /drover; empty: none)",
         api},
        {"admin_host", "DROVER_ADMIN_HOST", "127.0.0.1", "address the admin listener (/maintenance/...) listens on",
         api},
        {"admin_port", "DROVER_ADMIN_PORT", "0", "port of the admin listener (0: any free port, logged at start)",
         api, true},
        {"state_dir", "DROVER_STATE_DIR", "",
         "folder for job working folders and files, and for drover start/up: the local Postgres, logs, keys and "
         "the state file (default: $HOME/.local/share/drover)",
         worker | cli},
        {"concurrency", "DROVER_CONCURRENCY", "10", "jobs one worker runs at once", worker, true},
        {"queues", "DROVER_QUEUES", "default", "comma-separated queues this worker serves", worker},
        {"poll_interval_ms", "DROVER_POLL_INTERVAL_MS", "2000",
         "fallback poll when no notification arrives (NOTIFY is only a hint)", worker, true},
        {"lease_s", "DROVER_LEASE_S", "30",
         "how long a claimed job stays leased without a heartbeat (heartbeats every lease/3)", worker, true},
        {"worker_id", "DROVER_WORKER_ID", "", "lease owner name (default: host:pid:random)", worker},
        {"rescue_interval_ms", "DROVER_RESCUE_INTERVAL_MS", "5000",
         "how often a worker runs the lease rescue (one worker at a time across hosts)", worker, true},
        {"log_limit_bytes", "DROVER_LOG_LIMIT_BYTES", "1048576",
         "log bytes one attempt may write; the rest is dropped after a truncation marker", worker, true},
        {"prefetch_max_wait_ms", "DROVER_PREFETCH_MAX_WAIT_MS", "1000",
         "while jobs are short, a worker holds claimed jobs for its next free slots; one that waited this long "
         "unstarted is given back (0: no prefetch)",
         worker, true},
        {"db_prepared_statements", "DROVER_DB_PREPARED_STATEMENTS", "on",
         "on: each query is prepared once per connection; off: sent unprepared every time, for PgBouncer in "
         "transaction mode (costs a parse and plan per query)",
         api | worker | cli},
        {"listen", "DROVER_LISTEN", "on",
         "on: wake on LISTEN/NOTIFY, poll as a fallback; off: poll only (every DROVER_POLL_INTERVAL_MS), no "
         "LISTEN connection, for PgBouncer in transaction mode",
         worker},
        {"url", "DROVER_URL", "",
         "API base URL for the client commands (submit, jobs, show, logs, cancel, retry; default: the local "
         "drover start/up in the state folder)",
         cli},
        {"api_key", "DROVER_API_KEY", "",
         "API key the client commands send (default: the local drover start/up's key in the state folder)", cli},
        {"shutdown_grace_s", "DROVER_SHUTDOWN_GRACE_S", "10",
         "on SIGTERM, how long running jobs may finish before they are stopped (drover stop waits this plus 5 s, "
         "then kills)",
         api | worker | cli, true},
    };
    return table;
}

Config Config::load(Part part, int argc, const char* const* argv) {
    std::map<std::string, std::string> values;
    for (const auto& s : all_settings()) {
        if (!(s.parts & static_cast<unsigned>(part))) continue;
        if (const char* v = std::getenv(std::string(s.env).c_str())) values[std::string(s.name)] = v;
    }
    bool help = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            help = true;
            continue;
        }
        if (!arg.starts_with("--")) throw ConfigError("unexpected argument '" + std::string(arg) + "'");
        auto eq = arg.find('=');
        std::string name(arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2));
        for (char& c : name) c = c == '-' ? '_' : c;
        const Setting* s = find_setting(name);
        if (!s || !(s->parts & static_cast<unsigned>(part))) {
            throw ConfigError("unknown option '" + std::string(arg) + "' (see --help)");
        }
        if (eq != std::string_view::npos) {
            values[name] = std::string(arg.substr(eq + 1));
        } else if (i + 1 < argc) {
            values[name] = argv[++i];
        } else {
            throw ConfigError("option " + flag_name(name) + " needs a value");
        }
    }
    Config c = from(part, values);
    c.help_ = help;
    return c;
}

Config Config::from(Part part, const std::map<std::string, std::string>& values) {
    Config c;
    c.part_ = part;
    for (const auto& s : all_settings()) {
        if (s.parts & static_cast<unsigned>(part)) c.values_[std::string(s.name)] = std::string(s.fallback);
    }
    for (const auto& [name, value] : values) {
        const Setting* s = find_setting(name);
        if (!s) throw ConfigError("unknown setting '" + name + "'");
        check_value(*s, value);
        c.values_[name] = value;
    }
    return c;
}

const std::string& Config::str(std::string_view name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw ConfigError("setting '" + std::string(name) + "' is not used here");
    return it->second;
}

std::int64_t Config::integer(std::string_view name) const {
    const std::string& v = str(name);
    std::int64_t n = 0;
    std::from_chars(v.data(), v.data() + v.size(), n);
    return n;
}

std::string Config::help(std::string_view program) const {
    std::ostringstream out;
    out << "Usage: " << program << " [--option value]...\n\nOptions (environment variable, default):\n";
    for (const auto& s : all_settings()) {
        if (!(s.parts & static_cast<unsigned>(part_))) continue;
        out << "  " << flag_name(s.name) << "  (" << s.env;
        if (!s.fallback.empty()) out << ", default " << s.fallback;
        out << ")\n      " << s.help << "\n";
    }
    return out.str();
}

}  // namespace drover
