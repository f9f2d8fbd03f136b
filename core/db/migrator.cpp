#include "core/db/migrator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "core/db/embedded_sql.hpp"
#include "core/error.hpp"

namespace drover::db {
namespace {

constexpr std::string_view up_marker = "-- migrate:up";
constexpr std::string_view down_marker = "-- migrate:down";
// Any constant works; it only has to be the same in every Drover process.
constexpr const char* migrate_lock = "SELECT pg_advisory_lock(7245019386)";
constexpr const char* migrate_unlock = "SELECT pg_advisory_unlock(7245019386)";

}  // namespace

Migration parse_migration(std::string file, std::string_view text) {
    Migration m;
    auto digits = std::find_if_not(file.begin(), file.end(), [](char c) { return c >= '0' && c <= '9'; });
    m.version.assign(file.begin(), digits);
    if (m.version.empty()) throw Error("migration " + file + ": name must start with a version number");
    auto up = text.find(up_marker);
    auto down = text.find(down_marker);
    if (up == std::string_view::npos || down == std::string_view::npos || down < up) {
        throw Error("migration " + file + ": needs '-- migrate:up' then '-- migrate:down'");
    }
    auto up_line_end = text.find('\n', up);
    std::string_view options = text.substr(up + up_marker.size(), up_line_end - up - up_marker.size());
    m.transaction = options.find("transaction:false") == std::string_view::npos;
    m.up = std::string(text.substr(up_line_end + 1, down - up_line_end - 1));
    auto down_line_end = text.find('\n', down);
    m.down = down_line_end == std::string_view::npos ? "" : std::string(text.substr(down_line_end + 1));
    m.file = std::move(file);
    return m;
}

const std::vector<Migration>& embedded_migrations() {
    static const std::vector<Migration> all = [] {
        std::vector<Migration> out;
        for (const auto& f : sql::embedded_migrations()) {
            out.push_back(parse_migration(std::string(f.name), f.text));
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
        return out;
    }();
    return all;
}

const std::string& latest_migration_version() {
    static const std::string latest = embedded_migrations().empty() ? "" : embedded_migrations().back().version;
    return latest;
}

void Migrator::ensure_table() {
    // The exact table dbmate creates, so either tool can go first.
    conn_.exec("SET client_min_messages = warning; "
               "CREATE TABLE IF NOT EXISTS schema_migrations (version character varying PRIMARY KEY); "
               "RESET client_min_messages");
}

std::vector<std::string> Migrator::applied_versions() {
    ensure_table();
    auto rows = conn_.exec("SELECT version FROM schema_migrations ORDER BY version");
    std::vector<std::string> out;
    for (int r = 0; r < rows.rows(); ++r) out.emplace_back(rows.text(r, 0));
    return out;
}

std::vector<const Migration*> Migrator::pending() {
    auto applied = applied_versions();
    std::set<std::string> done(applied.begin(), applied.end());
    std::vector<const Migration*> out;
    for (const auto& m : embedded_migrations()) {
        if (!done.contains(m.version)) out.push_back(&m);
    }
    return out;
}

int Migrator::up() {
    conn_.exec(migrate_lock);
    int count = 0;
    try {
        for (const Migration* m : pending()) {
            spdlog::info("migrate: applying {}", m->file);
            auto apply = [&] {
                conn_.exec(m->up);
                conn_.exec("INSERT INTO schema_migrations (version) VALUES ($1)", Params().add(m->version));
            };
            if (m->transaction) {
                in_transaction(conn_, apply);
            } else {
                apply();
            }
            ++count;
        }
    } catch (...) {
        if (!conn_.broken()) conn_.exec(migrate_unlock);
        throw;
    }
    conn_.exec(migrate_unlock);
    return count;
}

}  // namespace drover::db
