#pragma once
// The built-in migrator. It reads the same sql/migrations files as dbmate and
// records versions the same way (schema_migrations(version), one row per
// applied file, each file in its own transaction), so the two can be used
// interchangeably on one database.
#include <optional>
#include <string>
#include <vector>

#include "core/db/connection.hpp"

namespace drover::db {

struct Migration {
    std::string version;  // the file name's leading digits, as dbmate takes them
    std::string file;
    std::string up;
    std::string down;
    bool transaction = true;  // dbmate's "-- migrate:up transaction:false" turns it off
};

// Splits a dbmate file into its up and down sections; throws Error if malformed.
Migration parse_migration(std::string file, std::string_view text);
// Every migration embedded in this binary, oldest first.
const std::vector<Migration>& embedded_migrations();
// The version this binary expects the database to be at.
const std::string& latest_migration_version();

class Migrator {
public:
    explicit Migrator(Connection& conn) : conn_(conn) {}

    std::vector<std::string> applied_versions();
    std::vector<const Migration*> pending();
    // Applies every pending migration, holding an advisory lock so that many
    // processes starting at once apply each file once. Returns how many ran.
    int up();
    // Rolls back the newest applied migration (its `-- migrate:down` section,
    // as `dbmate rollback` does), under the same lock. Returns its version, or
    // nothing when none is applied. Throws Error when the newest applied
    // version is not one this binary carries (a newer Drover applied it).
    std::optional<std::string> down();

private:
    void ensure_table();
    Connection& conn_;
};

}  // namespace drover::db
