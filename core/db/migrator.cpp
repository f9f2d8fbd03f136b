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

namespace {

// Runs f holding the migrations' advisory lock, so that many processes
// migrating at once apply (or roll back) each file once.
template <typename F>
auto with_migrate_lock(Connection& conn, F&& f) {
    conn.exec(migrate_lock);
    try {
        auto result = f();
        conn.exec(migrate_unlock);
        return result;
    } catch (...) {
        if (!conn.broken()) conn.exec(migrate_unlock);
        throw;
    }
}

// One section of a migration and its schema_migrations row, in one
// transaction unless the file says "transaction:false".
void run_section(Connection& conn, const Migration& m, const std::string& sql, const char* record) {
    auto apply = [&] {
        conn.exec(sql);
        conn.exec(record, Params().add(m.version));
    };
    if (m.transaction) {
        in_transaction(conn, apply);
    } else {
        apply();
    }
}

}  // namespace

int Migrator::up() {
    return with_migrate_lock(conn_, [&] {
        int count = 0;
        for (const Migration* m : pending()) {
            spdlog::info("migrate: applying {}", m->file);
            run_section(conn_, *m, m->up, "INSERT INTO schema_migrations (version) VALUES ($1)");
            ++count;
        }
        return count;
    });
}

std::optional<std::string> Migrator::down() {
    return with_migrate_lock(conn_, [&]() -> std::optional<std::string> {
        auto applied = applied_versions();
        if (applied.empty()) return std::nullopt;
        const auto& all = embedded_migrations();
        auto m = std::find_if(all.begin(), all.end(), [&](const Migration& x) { return x.version == applied.back(); });
        if (m == all.end()) {
            throw Error("migrate down: the newest applied migration, " + applied.back() +
                        ", is not one this drover carries (a newer version applied it): roll it back with that version");
        }
        spdlog::info("migrate: rolling back {}", m->file);
        run_section(conn_, *m, m->down, "DELETE FROM schema_migrations WHERE version = $1");
        return m->version;
    });
}

}  // namespace drover::db
