#include "cli/commands/migrate_command.hpp"

#include <iostream>
#include <set>

#include "core/db/connection.hpp"
#include "core/db/migrator.hpp"
#include "core/error.hpp"

namespace drover::cli {

int migrate_command(const Config& config, const std::string& action) {
    db::Connection conn(config.str("database_url"), "drover-migrate");
    db::Migrator migrator(conn);
    if (action == "up") {
        int applied = migrator.up();
        std::cout << "{\"applied\":" << applied << ",\"version\":\"" << db::latest_migration_version() << "\"}\n";
        return 0;
    }
    if (action == "status") {
        auto applied = migrator.applied_versions();
        std::set<std::string> done(applied.begin(), applied.end());
        for (const auto& m : db::embedded_migrations()) {
            std::cout << (done.contains(m.version) ? "[X] " : "[ ] ") << m.file << "\n";
        }
        return migrator.pending().empty() ? 0 : 1;
    }
    throw ConfigError("unknown migrate action '" + action + "' (up or status)");
}

}  // namespace drover::cli
