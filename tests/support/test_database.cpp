#include "tests/support/test_database.hpp"

#include <cstdlib>
#include <functional>
#include <random>
#include <stdexcept>
#include <thread>

#include "core/db/embedded_sql.hpp"
#include "core/db/migrator.hpp"
#include "core/error.hpp"

namespace drover::test {
namespace {

const std::string& server_url() {
    static const std::string url = [] {
        const char* v = std::getenv("DROVER_TEST_DATABASE_URL");
        if (!v || !*v) {
            throw std::runtime_error(
                "DROVER_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a Postgres");
        }
        return std::string(v);
    }();
    return url;
}

std::string template_name() {
    std::size_t h = 0;
    for (const auto& m : sql::embedded_migrations()) {
        h = h * 31 + std::hash<std::string_view>()(m.text);
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%012zx", static_cast<std::size_t>(h & 0xffffffffffffULL));
    return std::string("drover_template_") + buf;
}

void ensure_template(db::Connection& admin, const std::string& name) {
    // One process builds the template; the others wait on the lock.
    admin.exec("SELECT pg_advisory_lock(42)");
    try {
        auto exists = admin.exec("SELECT 1 FROM pg_database WHERE datname = $1", db::Params().add(name));
        if (exists.empty()) {
            admin.exec("CREATE DATABASE " + name + "_building");
            {
                db::Connection conn(database_url(name + "_building"), "drover-test-template");
                db::Migrator(conn).up();
            }
            admin.exec("ALTER DATABASE " + name + "_building RENAME TO " + name);
        }
    } catch (...) {
        admin.exec("DROP DATABASE IF EXISTS " + name + "_building");
        admin.exec("SELECT pg_advisory_unlock(42)");
        throw;
    }
    admin.exec("SELECT pg_advisory_unlock(42)");
}

}  // namespace

std::string database_url(const std::string& database) {
    const std::string& url = server_url();
    // postgres://user@host:port/dbname?params → replace dbname.
    auto scheme = url.find("://");
    auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash == std::string::npos) throw std::runtime_error("DROVER_TEST_DATABASE_URL needs a /database part");
    auto query = url.find('?', slash);
    return url.substr(0, slash + 1) + database + (query == std::string::npos ? "" : url.substr(query));
}

TestDatabase::TestDatabase(bool migrated) {
    std::random_device rd;
    name_ = "drover_test_" + std::to_string(rd()) + std::to_string(rd() % 1000);
    url_ = database_url(name_);
    db::Connection admin(server_url(), "drover-test-admin");
    if (!migrated) {
        admin.exec("CREATE DATABASE " + name_);
        return;
    }
    auto tmpl = template_name();
    ensure_template(admin, tmpl);
    // Cloning fails while another session is connected to the template,
    // which a concurrent clone can briefly be: try again.
    for (int attempt = 0;; ++attempt) {
        try {
            admin.exec("CREATE DATABASE " + name_ + " TEMPLATE " + tmpl);
            return;
        } catch (const DbError& e) {
            if (attempt >= 50 || e.sqlstate() != "55006") throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

TestDatabase::~TestDatabase() {
    try {
        db::Connection admin(server_url(), "drover-test-admin");
        admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
        // A leftover database in a throwaway server is harmless.
    }
}

}  // namespace drover::test
