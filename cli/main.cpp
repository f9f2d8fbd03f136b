// drover: operations command line.
#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>

#include <iostream>
#include <vector>

#include "cli/commands/client_commands.hpp"
#include "cli/commands/export_import_command.hpp"
#include "cli/commands/install_command.hpp"
#include "cli/commands/lifecycle_commands.hpp"
#include "cli/commands/keys_command.hpp"
#include "cli/local/state_file.hpp"
#include "cli/commands/migrate_command.hpp"
#include "cli/commands/rescue_command.hpp"
#include "cli/commands/sweep_command.hpp"
#include "core/db/statement_mode.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace {

constexpr const char* usage =
    "Usage: drover <command> [--option value]...\n"
    "Run Drover on this machine (one JSON line on stdout each; logs on stderr):\n"
    "  start            start a local Postgres (unless DROVER_DATABASE_URL is set), drover-api and one\n"
    "                   drover-worker in the background; wait for /readyz; record them in\n"
    "                   $DROVER_STATE_DIR/drover.json\n"
    "  status           what runs, and the API's /status; exit 3 when not running (a stale state\n"
    "                   file is reported and removed)\n"
    "  stop             SIGTERM, wait DROVER_SHUTDOWN_GRACE_S + 5 s, then SIGKILL; exit 3 when not running\n"
    "  ensure [--postgres] [--api] [--worker]   start what is missing (none named: all); idempotent\n"
    "  up               all of it in the foreground, zero configuration; Ctrl-C stops it (exit 130)\n"
    "  install [--check]   install the packages, dbmate and the job user Drover needs (scripts/install,\n"
    "                   the same steps as scripts/run); --check only lists what is missing (exit 1 if any)\n"
    "  (--state-dir DIR, --database-url URL; DROVER_PORT / DROVER_ADMIN_PORT pick the ports)\n"
    "Use the API (--url/DROVER_URL, --api-key/DROVER_API_KEY; default: the local drover start/up):\n"
    "  submit KIND [--args JSON] [--file DIR|ZIP] [--queue Q] [--wait] [--timeout S] [--download DIR]\n"
    "                   --file: a folder (zipped here) or a zip, uploaded for the job's inbound/;\n"
    "                   --wait: the log as it comes, a live status line on a terminal; exit 0 succeeded,\n"
    "                   1 failed, 4 cancelled, 5 --timeout passed; --download: then fetch the artifacts\n"
    "  jobs [--status S] [--kind K] [--queue Q] [--limit N]\n"
    "  show ID | logs ID [--follow] | cancel ID | retry ID       --json on each: JSON lines\n"
    "  artifacts ID [--download DIR [--overwrite]]   list, or download each (sha256 checked)\n"
    "                   client commands exit 2 on a usage error or an API refusal, 3 when the API does\n"
    "                   not answer, 6 when artifacts could not be downloaded (drover submit --help)\n"
    "Operate a database:\n"
    "  migrate [up]     apply pending migrations (same files and table as dbmate)\n"
    "  migrate status   the schema's version and the pending migrations; exit 1 if any is pending\n"
    "  migrate down     roll back the newest applied migration (its migrate:down section)\n"
    "  rescue           put back jobs whose worker lost its lease (workers also do this)\n"
    "  sweep [NAME...] [--dry-run]   sweeps: jobs artifacts uploads sessions eviction reconcile\n"
    "  export FILE [--whitelisted-only] | import FILE   upload records and their files as one archive\n"
    "  apps list | apps create NAME [MAX_UNFINISHED_JOBS]\n"
    "  keys create APP ROLE [NAME]    a key of APP (read, submit or admin), printed once\n"
    "  keys create-operator [NAME]    a key for the admin listener, printed once\n"
    "  keys list [APP] | keys revoke ID\n"
    "Run 'drover <command> --help' for options.\n";

// The database URL in the state file of a local drover start/up, if any.
std::string local_database_url() {
    std::string dir;
    if (const char* d = std::getenv("DROVER_STATE_DIR"); d && *d) {
        dir = d;
    } else if (const char* home = std::getenv("HOME"); home && *home) {
        dir = std::string(home) + "/.local/share/drover";
    }
    if (dir.empty() || !std::filesystem::exists(drover::cli::state_file_path(dir))) return {};
    try {
        auto state = drover::cli::read_state(dir);
        return state ? state->database_url : std::string();
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace drover;
    if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
        std::cout << usage;
        return argc < 2 ? 2 : 0;
    }
    std::string command = argv[1];
    if (command == "install") return cli::install_command(std::vector<std::string>(argv + 2, argv + argc));
    if (cli::is_client_command(command)) {
        return cli::client_command(command, std::vector<std::string>(argv + 2, argv + argc));
    }
    std::vector<const char*> rest = {argv[0]};
    std::string action;
    std::vector<std::string> words;  // every positional argument after the command
    for (int i = 2; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (command == "ensure" && (arg == "--postgres" || arg == "--api" || arg == "--worker")) {
            words.emplace_back(arg);
        } else if (command == "sweep" && (arg == "--dry-run" || arg[0] != '-')) {
            words.emplace_back(arg);
        } else if ((command == "export" || command == "import") &&
                   (arg == "--whitelisted-only" || arg == "-" || arg[0] != '-')) {
            words.emplace_back(arg);
        } else if (argv[i][0] != '-' && (command == "apps" || command == "keys" || action.empty())) {
            if (action.empty()) action = argv[i];
            words.emplace_back(argv[i]);
        } else {
            rest.push_back(argv[i]);
            // A flag's separate value is not a positional argument.
            if (std::string_view(argv[i]).find('=') == std::string_view::npos && i + 1 < argc &&
                std::string_view(argv[i]) != "--help" && std::string_view(argv[i]) != "-h") {
                rest.push_back(argv[++i]);
            }
        }
    }
    // Database commands without a URL use the local Drover's (drover start/up).
    std::string local_url;
    if ((command == "migrate" || command == "rescue" || command == "sweep" || command == "apps" || command == "keys" ||
         command == "export" || command == "import") &&
        !std::getenv("DROVER_DATABASE_URL")) {
        bool given = false;
        for (const char* a : rest) given |= std::string_view(a).starts_with("--database-url");
        if (!given) local_url = local_database_url();
        if (!local_url.empty()) {
            rest.push_back("--database-url");
            rest.push_back(local_url.c_str());
        }
    }
    try {
        Config config = Config::load(Part::cli, static_cast<int>(rest.size()), rest.data());
        if (config.help_requested()) {
            std::cout << usage << "\n" << config.help("drover " + command);
            return 0;
        }
        init_logging("drover", config.str("log_level"));
        db::configure_statement_mode(config);
        // What a local Drover writes (state file, keys, logs, the cluster's
        // folders) is its owner's only, however the caller's umask is set.
        if (command == "start" || command == "up" || command == "ensure") ::umask(077);
        if (command == "start") return cli::start_command(config);
        if (command == "status") return cli::status_command(config);
        if (command == "stop") return cli::stop_command(config);
        if (command == "ensure") return cli::ensure_command(config, words);
        if (command == "up") return cli::up_command(config);
        if (command == "migrate") return cli::migrate_command(config, action.empty() ? "up" : action);
        if (command == "rescue") return cli::rescue_command(config);
        if (command == "sweep") return cli::sweep_command(config, words);
        if (command == "export") return cli::export_command(config, words);
        if (command == "import") return cli::import_command(config, words);
        if (command == "apps") return cli::apps_command(config, words);
        if (command == "keys") return cli::keys_command(config, words);
        std::cerr << "drover: unknown command '" << command << "'\n" << usage;
        return 2;
    } catch (const ConfigError& e) {
        std::cerr << "drover: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "drover: " << e.what() << "\n";
        return 1;
    }
}
