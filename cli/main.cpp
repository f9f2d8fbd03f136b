// drover: operations command line.
#include <iostream>
#include <vector>

#include "cli/keys_command.hpp"
#include "cli/migrate_command.hpp"
#include "cli/rescue_command.hpp"
#include "cli/sweep_command.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace {

constexpr const char* usage =
    "Usage: drover <command> [--option value]...\n"
    "Commands:\n"
    "  migrate [up]     apply pending migrations (same files and table as dbmate)\n"
    "  migrate status   list migrations; exit 1 if any is pending\n"
    "  rescue           put back jobs whose worker lost its lease (workers also do this)\n"
    "  sweep [NAME...] [--dry-run]   sweeps: jobs artifacts uploads sessions eviction reconcile\n"
    "  apps list | apps create NAME [MAX_UNFINISHED_JOBS]\n"
    "  keys create APP ROLE [NAME]    a key of APP (read, submit or admin), printed once\n"
    "  keys create-operator [NAME]    a key for the admin listener, printed once\n"
    "  keys list [APP] | keys revoke ID\n"
    "Run 'drover <command> --help' for options.\n";

}  // namespace

int main(int argc, char** argv) {
    using namespace drover;
    if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
        std::cout << usage;
        return argc < 2 ? 2 : 0;
    }
    std::string command = argv[1];
    std::vector<const char*> rest = {argv[0]};
    std::string action;
    std::vector<std::string> words;  // every positional argument after the command
    for (int i = 2; i < argc; ++i) {
        if ((argv[i][0] != '-' && (command == "apps" || command == "keys" || command == "sweep" || action.empty())) ||
            (command == "sweep" && std::string_view(argv[i]) == "--dry-run")) {
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
    try {
        Config config = Config::load(Part::cli, static_cast<int>(rest.size()), rest.data());
        if (config.help_requested()) {
            std::cout << usage << "\n" << config.help("drover " + command);
            return 0;
        }
        init_logging("drover", config.str("log_level"));
        if (command == "migrate") return cli::migrate_command(config, action.empty() ? "up" : action);
        if (command == "rescue") return cli::rescue_command(config);
        if (command == "sweep") return cli::sweep_command(config, words);
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
