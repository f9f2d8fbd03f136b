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

std::string setting_name(const Setting& s) { return std::string(s.env) + " (" + flag_name(s.name) + ")"; }

// Every value is checked when the binary starts, so that a typo is an error
// naming the setting, never a silently different value (--port 70000 once
// listened on 4464; --poll-interval-ms 0 made the listener spin).
void check_value(const Setting& s, const std::string& value) {
    if (!s.integer) {
        // An empty value is not a choice: DROVER_AUTH= must not read as "not on".
        if (s.choices.empty()) return;
        std::string_view rest = s.choices;
        while (!rest.empty()) {
            auto bar = rest.find('|');
            if (rest.substr(0, bar) == value) return;
            rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
        }
        std::string list(s.choices);
        for (char& c : list) c = c == '|' ? ',' : c;
        throw ConfigError(setting_name(s) + " must be one of " + list + ", got '" + value + "'");
    }
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    bool number = !value.empty() && ec == std::errc() && ptr == value.data() + value.size();
    if (!number || n < s.min || n > s.max) {
        throw ConfigError(setting_name(s) + " must be an integer from " + std::to_string(s.min) + " to " +
                          std::to_string(s.max) + ", got '" + value + "'");
    }
}

}  // namespace

const std::vector<Setting>& all_settings() {
    static const std::vector<Setting> table = {
        {"database_url", "DROVER_DATABASE_URL", "postgres:///drover",
         "PostgreSQL connection URL (libpq syntax)", api | worker | cli},
        {"log_level", "DROVER_LOG_LEVEL", "info", "trace, debug, info, warn, error or off",
         api | worker | cli, false, 0, 0, "trace|debug|info|warn|error|critical|off"},
        {"kinds_file", "DROVER_KINDS_FILE", "",
         "JSON file declaring command kinds (see docs/kinds.md); built-in kinds always exist",
         api | worker | cli},
        {"host", "DROVER_HOST", "127.0.0.1", "address the API listens on", api},
        {"port", "DROVER_PORT", "8080", "port the API listens on", api, true, 1, 65535},
        {"api_threads", "DROVER_API_THREADS", "2", "HTTP reactor threads", api, true, 1, 64},
        {"api_db_connections", "DROVER_API_DB_CONNECTIONS", "4",
         "database connections (and threads) the API runs queries on, off the reactor", api, true, 1, 200},
        {"api_queue_limit", "DROVER_API_QUEUE_LIMIT", "1024",
         "requests waiting for a database connection before the API answers 503", api, true, 1, 1000000},
        {"max_request_bytes", "DROVER_MAX_REQUEST_BYTES", "1048576",
         "largest request (line, headers and body) the API accepts; larger gets 413", api, true, 1024, 268435456},
        {"keepalive_timeout_s", "DROVER_KEEPALIVE_TIMEOUT_S", "15",
         "an idle keep-alive connection (no request in progress) is closed after this long", api, true, 1, 3600},
        {"send_timeout_s", "DROVER_SEND_TIMEOUT_S", "60",
         "an answer the client stops reading (a download, a large page) is abandoned and its connection closed "
         "once none of it has been taken for this long",
         api, true, 1, 3600},
        {"max_connections", "DROVER_MAX_CONNECTIONS", "10000",
         "open client connections per API process (also capped by the open-file limit); past it the idlest is "
         "closed, or the new one gets 503",
         api, true, 16, 1000000},
        {"commit_check_ms", "DROVER_COMMIT_CHECK_MS", "15000",
         "when the connection drops during a job's COMMIT, how long the API keeps asking the database whether it "
         "committed before answering 503 commit_unknown",
         api, true, 0, 600000},
        {"statement_timeout_ms", "DROVER_STATEMENT_TIMEOUT_MS", "10000",
         "longest a single API query may run before it is cancelled", api, true, 1, 86400000},
        {"auth", "DROVER_AUTH", "on",
         "on: every request but /healthz and /readyz needs an API key; off: for local experiments only, every "
         "public request acts for the app 'default' as admin, unchecked",
         api, false, 0, 0, "on|off"},
        {"auth_cache_ms", "DROVER_AUTH_CACHE_MS", "900",
         "how long an API process trusts a key it looked up (at most 1000): a revoked key is refused by every "
         "process within this time (0: look the key up on every request)",
         api, true, 0, 1000},
        {"root_path", "DROVER_ROOT_PATH", "",
         "path prefix of every public route, for a reverse proxy that forwards /prefix/... unchanged "
         "(e.g. /drover; empty: none)",
         api},
        {"admin_host", "DROVER_ADMIN_HOST", "127.0.0.1", "address the admin listener (/maintenance/...) listens on",
         api},
        {"admin_port", "DROVER_ADMIN_PORT", "0", "port of the admin listener (0: any free port, logged at start)",
         api, true, 0, 65535},
        {"state_dir", "DROVER_STATE_DIR", "",
         "folder for job working folders and files, and for drover start/up: the local Postgres, logs, keys and "
         "the state file (default: $HOME/.local/share/drover)",
         worker | cli},
        {"sandbox", "DROVER_SANDBOX", "on",
         "on: command jobs run sandboxed with bubblewrap (docs/kinds.md, Sandbox), and the worker refuses to start "
         "when the sandbox does not work; off: plain child processes that can read other jobs' folders and the "
         "worker's files (unsafe)",
         worker, false, 0, 0, "on|off"},
        {"concurrency", "DROVER_CONCURRENCY", "10", "jobs one worker runs at once", worker, true, 1, 10000},
        {"queues", "DROVER_QUEUES", "default", "comma-separated queues this worker serves", worker},
        {"poll_interval_ms", "DROVER_POLL_INTERVAL_MS", "2000",
         "fallback poll when no notification arrives (NOTIFY is only a hint)", worker, true, 10, 3600000},
        {"lease_s", "DROVER_LEASE_S", "30",
         "how long a claimed job stays leased without a heartbeat (heartbeats every lease/3)", worker, true, 3, 86400},
        {"worker_id", "DROVER_WORKER_ID", "", "lease owner name (default: host:pid:random)", worker},
        {"rescue_interval_ms", "DROVER_RESCUE_INTERVAL_MS", "5000",
         "how often a worker runs the lease rescue (one worker at a time across hosts)", worker, true, 100, 3600000},
        {"log_limit_bytes", "DROVER_LOG_LIMIT_BYTES", "1048576",
         "log bytes one attempt may write; the rest is dropped after a truncation marker", worker, true, 0, 1073741824},
        {"prefetch_max_wait_ms", "DROVER_PREFETCH_MAX_WAIT_MS", "1000",
         "while jobs are short, a worker holds claimed jobs for its next free slots; one that waited this long "
         "unstarted is given back (0: no prefetch)",
         worker, true, 0, 600000},
        {"db_prepared_statements", "DROVER_DB_PREPARED_STATEMENTS", "on",
         "on: each query is prepared once per connection; off: sent unprepared every time, for PgBouncer in "
         "transaction mode (costs a parse and plan per query)",
         api | worker | cli, false, 0, 0, "on|off"},
        {"listen", "DROVER_LISTEN", "on",
         "on: wake on LISTEN/NOTIFY, poll as a fallback; off: poll only (every DROVER_POLL_INTERVAL_MS), no "
         "LISTEN connection, for PgBouncer in transaction mode",
         worker, false, 0, 0, "on|off"},
        {"url", "DROVER_URL", "",
         "API base URL for the client commands (submit, jobs, show, logs, cancel, retry; default: the local "
         "drover start/up in the state folder)",
         cli},
        {"api_key", "DROVER_API_KEY", "",
         "API key the client commands send (default: the local drover start/up's key in the state folder)", cli},
        {"shutdown_grace_s", "DROVER_SHUTDOWN_GRACE_S", "10",
         "on SIGTERM, how long running jobs may finish before they are stopped (drover stop waits this plus 5 s, "
         "then kills)",
         api | worker | cli, true, 0, 86400},
        // Files: uploads, artifacts and the storage they share (docs/storage.md).
        {"storage_dir", "DROVER_STORAGE_DIR", "",
         "root folder of stored files (uploads, artifacts), content-addressed by sha256; every API and worker "
         "process must see the same folder (default: <DROVER_STATE_DIR>/storage)",
         api | worker | cli},
        {"public_url", "DROVER_PUBLIC_URL", "",
         "the URL clients reach the API at (e.g. https://drover.example.com), for GA4GH DRS self_uri and "
         "access URLs (default: http:// and the request's Host header)",
         api},
        {"max_upload_bytes", "DROVER_MAX_UPLOAD_BYTES", "67108864",
         "largest zip one POST /v1/uploads may send (the body is held in memory while it is checked); larger "
         "gets 413",
         api, true, 1024, 17179869184},
        {"max_upload_entries", "DROVER_MAX_UPLOAD_ENTRIES", "10000",
         "most entries (files and folders) an uploaded zip may hold", api | worker, true, 1, 10000000},
        {"max_upload_uncompressed_bytes", "DROVER_MAX_UPLOAD_UNCOMPRESSED_BYTES", "1073741824",
         "most bytes an uploaded zip may unpack to, counted from the bytes actually decompressed", api | worker,
         true, 0, 1099511627776},
        {"max_upload_part_bytes", "DROVER_MAX_UPLOAD_PART_BYTES", "8388608",
         "largest part of a parted upload (PUT /v1/uploads/sessions/{id}/parts/{n}); larger gets 413", api, true, 1024, 268435456},
        {"max_parted_upload_bytes", "DROVER_MAX_PARTED_UPLOAD_BYTES", "1073741824",
         "largest zip a parted upload may assemble (its parts together); more gets 413", api, true, 1024, 1099511627776},
        {"upload_session_ttl_s", "DROVER_UPLOAD_SESSION_TTL_S", "86400",
         "how long a parted upload stays open; then its parts are deleted", api, true, 1, 31536000},
        {"artifact_retention_s", "DROVER_ARTIFACT_RETENTION_S", "86400",
         "how long the files a job leaves in outbound/ are kept as artifacts", worker, true, 0, 31536000},
        {"storage_sweep_interval_ms", "DROVER_STORAGE_SWEEP_INTERVAL_MS", "60000",
         "how often a worker runs the storage sweeps (one worker at a time per sweep; 0: never)", worker, true, 0, 86400000},
        {"upload_grace_s", "DROVER_UPLOAD_GRACE_S", "3600",
         "an upload no pending or running job names is deleted once unused this long (never a whitelisted one)",
         api | worker | cli, true, 0, 31536000},
        {"eviction_threshold_percent", "DROVER_EVICTION_THRESHOLD_PERCENT", "95",
         "when stored bytes pass this share of DROVER_MAX_STORAGE_BYTES, least recently used files are evicted",
         api | worker | cli, true, 1, 100},
        {"eviction_target_percent", "DROVER_EVICTION_TARGET_PERCENT", "60",
         "eviction stops once stored bytes are at most this share of DROVER_MAX_STORAGE_BYTES", api | worker | cli,
         true, 0, 100},
        {"job_retention_s", "DROVER_JOB_RETENTION_S", "604800",
         "finished jobs older than this go, with their log lines and artifacts (0: kept forever)", api | worker | cli,
         true, 0, 315360000},
        {"max_storage_bytes", "DROVER_MAX_STORAGE_BYTES", "10737418240",
         "most bytes of stored files (each distinct content counted once); an upload that does not fit even after "
         "eviction gets 507",
         api | worker | cli, true, 0, 1125899906842624},
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
        if (s.integer) out << ", " << s.min << " to " << s.max;
        out << ")\n      " << s.help << "\n";
    }
    return out.str();
}

}  // namespace drover
