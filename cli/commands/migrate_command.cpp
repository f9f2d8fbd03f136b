#include "cli/commands/migrate_command.hpp"

#include <set>

#include "cli/json_line.hpp"
#include "core/db/connection.hpp"
#include "core/db/migrator.hpp"
#include "core/error.hpp"

namespace drover::cli {

int migrate_command(const Config& config, const std::string& action) {
    if (action != "up" && action != "down" && action != "status") {
        throw ConfigError("unknown migrate action '" + action + "' (up, down or status)");
    }
    db::Connection conn(config.str("database_url"), "drover-migrate");
    db::Migrator migrator(conn);
    if (action == "up") {
        int applied = migrator.up();
        JsonLine().add("applied", applied).add("version", db::latest_migration_version()).print();
        return 0;
    }
    if (action == "down") {
        // One migration a call, as `dbmate rollback`: going back further is a
        // decision to take file by file.
        auto rolled_back = migrator.down();
        auto applied = migrator.applied_versions();
        JsonLine line;
        if (rolled_back) {
            line.add("rolled_back", *rolled_back);
        } else {
            line.add_null("rolled_back");
        }
        if (applied.empty()) {
            line.add_null("version");
        } else {
            line.add("version", applied.back());
        }
        line.print();
        return 0;
    }
    if (action == "status") {
        auto applied = migrator.applied_versions();
        const std::set<std::string> done(applied.begin(), applied.end());
        std::set<std::string> known;
        std::vector<std::string> pending;
        for (const auto& m : db::embedded_migrations()) {
            known.insert(m.version);
            if (!done.contains(m.version)) pending.push_back(m.file);
        }
        // Applied by a newer drover: this one cannot roll them back.
        std::vector<std::string> unknown;
        for (const auto& v : applied) {
            if (!known.contains(v)) unknown.push_back(v);
        }
        JsonLine line;
        if (applied.empty()) {
            line.add_null("version");
        } else {
            line.add("version", applied.back());
        }
        line.add("latest", db::latest_migration_version())
            .add("applied", static_cast<std::int64_t>(applied.size()))
            .add("pending", pending)
            .add("unknown", unknown)
            .print();
        return pending.empty() ? 0 : 1;
    }
    return 0;  // unreachable: the action was checked above
}

}  // namespace drover::cli
