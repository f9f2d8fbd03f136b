#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/db/migrator.hpp"
#include "core/error.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

namespace {

std::string dbmate_path() {
    const char* v = std::getenv("DROVER_DBMATE");
    return v && *v ? v : std::string(DROVER_SOURCE_DIR) + "/.tools/node_modules/@dbmate/linux-x64/bin/dbmate";
}

// Runs real dbmate against the database with the project's migrations;
// returns its exit status, and its output through `output`.
int dbmate(const test::TestDatabase& database, std::vector<std::string> args, std::string* output = nullptr) {
    std::vector<std::string> all = {"--url", database.url(), "--migrations-dir",
                                    std::string(DROVER_SOURCE_DIR) + "/sql/migrations", "--no-dump-schema"};
    all.insert(all.end(), args.begin(), args.end());
    // dbmate dumps the schema with pg_dump, which Debian keeps off PATH.
    const char* path = std::getenv("PATH");
    test::Process p(dbmate_path(), all, {{"PATH", "/usr/lib/postgresql/15/bin:" + std::string(path ? path : "")}});
    auto status = p.wait_exit(std::chrono::seconds(60));
    if (output) *output = p.output();
    BOOST_REQUIRE_MESSAGE(status.has_value(), "dbmate did not finish: " << p.output());
    return *status;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The dump without the lines that name the server's version.
std::string comparable(const std::string& dump) {
    std::stringstream in(dump), out;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with("-- Dumped ")) out << line << "\n";
    }
    return out.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(migrations_pgtest)

BOOST_AUTO_TEST_CASE(after_dbmate_up_the_builtin_migrator_sees_nothing_pending) {
    test::TestDatabase database(false);
    std::string out;
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    auto conn = database.connect();
    BOOST_TEST(db::Migrator(conn).pending().empty());
    BOOST_TEST(db::Migrator(conn).up() == 0);
}

BOOST_AUTO_TEST_CASE(after_builtin_up_dbmate_sees_nothing_pending) {
    test::TestDatabase database(false);
    auto conn = database.connect();
    BOOST_TEST(db::Migrator(conn).up() == static_cast<int>(db::embedded_migrations().size()));
    std::string out;
    BOOST_TEST(dbmate(database, {"status", "--exit-code"}, &out) == 0, out);
    BOOST_TEST(out.find("Pending: 0") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(builtin_migrator_reapplies_what_dbmate_rolled_back) {
    test::TestDatabase database(false);
    std::string out;
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"rollback"}, &out) == 0, out);
    auto conn = database.connect();
    auto pending = db::Migrator(conn).pending();
    BOOST_REQUIRE(pending.size() == 1u);
    BOOST_TEST(pending[0]->version == db::latest_migration_version());
    BOOST_TEST(db::Migrator(conn).up() == 1);
    BOOST_TEST(conn.exec("SELECT count(*) FROM drover.jobs").int64(0, 0) == 0);
    BOOST_TEST(dbmate(database, {"status", "--exit-code"}, &out) == 0, out);
}

BOOST_AUTO_TEST_CASE(builtin_down_rolls_back_what_dbmate_then_sees_pending) {
    test::TestDatabase database(false);
    auto conn = database.connect();
    db::Migrator migrator(conn);
    migrator.up();
    auto rolled_back = migrator.down();
    BOOST_REQUIRE(rolled_back.has_value());
    BOOST_TEST(*rolled_back == db::latest_migration_version());
    std::string out;
    BOOST_TEST(dbmate(database, {"status", "--exit-code"}, &out) != 0, out);
    BOOST_TEST(out.find("Pending: 1") != std::string::npos, out);
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    BOOST_TEST(migrator.pending().empty());
}

// Every migrate:down section works: all the way down, then up again, and the
// schema is the committed one.
BOOST_AUTO_TEST_CASE(every_migration_rolls_back_and_applies_again) {
    test::TestDatabase database(false);
    auto conn = database.connect();
    db::Migrator migrator(conn);
    const auto count = static_cast<int>(db::embedded_migrations().size());
    BOOST_REQUIRE(migrator.up() == count);
    conn.exec("SELECT drover.enqueue('noop', '{}'::jsonb)");
    for (int i = count - 1; i >= 0; --i) {
        auto rolled_back = migrator.down();
        BOOST_REQUIRE_MESSAGE(rolled_back.has_value(), "nothing rolled back at step " << i);
        BOOST_TEST(*rolled_back == db::embedded_migrations()[static_cast<std::size_t>(i)].version);
    }
    BOOST_TEST(!migrator.down().has_value());
    BOOST_TEST(conn.exec("SELECT count(*) FROM pg_namespace WHERE nspname = 'drover'").int64(0, 0) == 0);
    BOOST_TEST(migrator.up() == count);
    BOOST_TEST(conn.exec("SELECT count(*) FROM drover.jobs").int64(0, 0) == 0);
}

BOOST_AUTO_TEST_CASE(down_refuses_a_version_this_binary_does_not_carry) {
    test::TestDatabase database(false);
    auto conn = database.connect();
    db::Migrator migrator(conn);
    migrator.up();
    conn.exec("INSERT INTO schema_migrations (version) VALUES ('99991231000000')");
    BOOST_CHECK_THROW(migrator.down(), Error);
    // Nothing was rolled back.
    BOOST_TEST(migrator.applied_versions().size() == db::embedded_migrations().size() + 1);
}

BOOST_AUTO_TEST_CASE(concurrent_migrators_apply_each_file_once) {
    test::TestDatabase database(false);
    std::vector<std::thread> threads;
    std::atomic<int> applied{0};
    std::atomic<int> failures{0};
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            try {
                auto conn = database.connect();
                applied += db::Migrator(conn).up();
            } catch (...) {
                ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(applied.load() == static_cast<int>(db::embedded_migrations().size()));
}

// jobs_lean_writes (issue 12) changes drover.jobs' storage and indexes: it
// must apply to a table full of jobs in every state, and roll back from one.
BOOST_AUTO_TEST_CASE(jobs_lean_writes_applies_to_a_populated_jobs_table) {
    test::TestDatabase database(false);
    std::string out;
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    auto conn = database.connect();
    auto count = [&](const std::string& sql) { return conn.exec(sql).int64(0, 0); };
    auto index_exists = [&](const std::string& name) {
        return count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'drover' AND indexname = '" + name + "'") == 1;
    };
    // Back to just before it (later migrations too, if any).
    for (int i = 0; i < 20 && !index_exists("jobs_running_lease"); ++i) {
        BOOST_REQUIRE_MESSAGE(dbmate(database, {"rollback"}, &out) == 0, out);
    }
    BOOST_REQUIRE(index_exists("jobs_running_lease"));
    BOOST_REQUIRE(!index_exists("jobs_running"));
    conn.exec("INSERT INTO drover.jobs (kind) SELECT 'noop' FROM generate_series(1, 5000)");
    conn.exec("UPDATE drover.jobs SET status = 'running', attempt = 1, lease_owner = 'w', "
              "lease_expires_at = now() - interval '1 second', started_at = now() WHERE id <= 100");
    conn.exec("UPDATE drover.jobs SET status = 'succeeded', attempt = 1, started_at = now(), finished_at = now() "
              "WHERE id > 4000");
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    BOOST_TEST(index_exists("jobs_running"));
    BOOST_TEST(!index_exists("jobs_running_lease"));
    BOOST_TEST(!index_exists("jobs_running_by_queue"));
    BOOST_TEST(count("SELECT count(*) FROM pg_class WHERE oid = 'drover.jobs'::regclass "
                     "AND 'fillfactor=50' = ANY (reloptions)") == 1);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == 5000);
    // The rescue and the queue count find the running jobs through the new index.
    conn.exec("SET enable_seqscan = off");
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE status = 'running' AND lease_expires_at < now()") == 100);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE status = 'running' AND queue = 'default'") == 100);
    auto plan = conn.exec("EXPLAIN SELECT id FROM drover.jobs WHERE status = 'running' AND lease_expires_at < now() "
                          "ORDER BY lease_expires_at LIMIT 10");
    std::string text;
    for (int i = 0; i < plan.rows(); ++i) text += std::string(plan.text(i, 0)) + "\n";
    BOOST_TEST(text.find("jobs_running") != std::string::npos, text);
    conn.exec("RESET enable_seqscan");
    // And back, with the jobs in place.
    for (int i = 0; i < 20 && !index_exists("jobs_running_lease"); ++i) {
        BOOST_REQUIRE_MESSAGE(dbmate(database, {"rollback"}, &out) == 0, out);
    }
    BOOST_TEST(index_exists("jobs_running_by_queue"));
    BOOST_TEST(!index_exists("jobs_running"));
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE status = 'running'") == 100);
}

// jobs_cheaper_name_checks (issue 12) respells drover.jobs' name checks: it
// must apply to a table full of jobs and roll back from one, and the same
// names must be refused and accepted on either side of it.
BOOST_AUTO_TEST_CASE(jobs_cheaper_name_checks_applies_to_a_populated_jobs_table) {
    test::TestDatabase database(false);
    std::string out;
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    auto conn = database.connect();
    auto count = [&](const std::string& sql) { return conn.exec(sql).int64(0, 0); };
    // The old spelling: one anchored regular expression with a repetition.
    auto old_checks = [&] {
        return count("SELECT count(*) FROM pg_constraint WHERE conrelid = 'drover.jobs'::regclass "
                     "AND conname IN ('jobs_app_valid', 'jobs_kind_valid', 'jobs_queue_valid') "
                     "AND pg_get_constraintdef(oid) LIKE '%{1,%'");
    };
    auto refused = [&](const std::string& sql) {
        try {
            conn.exec(sql);
        } catch (const DbError& e) {
            return e.sqlstate() == "23514";
        }
        return false;
    };
    auto same_rule = [&] {
        BOOST_TEST(refused("INSERT INTO drover.jobs (kind) VALUES ('bad kind')"));
        BOOST_TEST(refused("INSERT INTO drover.jobs (kind) VALUES ('')"));
        BOOST_TEST(refused("INSERT INTO drover.jobs (kind) VALUES (E'noop\\n')"));
        BOOST_TEST(refused("INSERT INTO drover.jobs (kind) VALUES ('caf\u00e9')"));
        BOOST_TEST(refused("INSERT INTO drover.jobs (kind, queue) VALUES ('noop', '')"));
        BOOST_TEST(refused("INSERT INTO drover.jobs (kind, queue) VALUES ('noop', repeat('q', 65))"));
        BOOST_TEST(refused("INSERT INTO drover.jobs (kind, queue) VALUES ('noop', 'a/b')"));
        BOOST_TEST(refused("INSERT INTO drover.jobs (kind) VALUES (repeat('k', 129))"));
        BOOST_TEST(refused("UPDATE drover.jobs SET queue = 'a b' WHERE id = 1"));
        // The longest names allowed, and every character of the class, still are.
        BOOST_TEST(count("WITH i AS (INSERT INTO drover.jobs (kind, queue) VALUES (repeat('k', 128), "
                         "'Az09_.:-' || repeat('q', 56)) RETURNING id) SELECT count(*) FROM i") == 1);
    };
    for (int i = 0; i < 20 && old_checks() == 0; ++i) {
        BOOST_REQUIRE_MESSAGE(dbmate(database, {"rollback"}, &out) == 0, out);
    }
    BOOST_REQUIRE(old_checks() == 3);
    conn.exec("INSERT INTO drover.jobs (kind, queue) SELECT 'noop', 'q' || (g % 3) FROM generate_series(1, 5000) AS g");
    conn.exec("UPDATE drover.jobs SET status = 'running', attempt = 1, lease_owner = 'w', "
              "lease_expires_at = now() + interval '1 minute', started_at = now() WHERE id <= 100");
    conn.exec("UPDATE drover.jobs SET status = 'succeeded', attempt = 1, started_at = now(), finished_at = now() "
              "WHERE id > 4000");
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    BOOST_TEST(old_checks() == 0);
    BOOST_TEST(count("SELECT count(*) FROM pg_constraint WHERE conrelid = 'drover.jobs'::regclass "
                     "AND conname IN ('jobs_app_valid', 'jobs_kind_valid', 'jobs_queue_valid') AND convalidated") == 3);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == 5000);
    same_rule();
    // And back, with the jobs in place.
    for (int i = 0; i < 20 && old_checks() == 0; ++i) {
        BOOST_REQUIRE_MESSAGE(dbmate(database, {"rollback"}, &out) == 0, out);
    }
    BOOST_TEST(old_checks() == 3);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == 5001);
    same_rule();
}

// jobs_listing_table (issue 12) moves the listing from an index to a table
// kept by triggers: applied to a table full of jobs of two apps, it must list
// every one of them; rolled back, the index is back and nothing is lost.
BOOST_AUTO_TEST_CASE(jobs_listing_table_applies_to_a_populated_jobs_table) {
    test::TestDatabase database(false);
    std::string out;
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    auto conn = database.connect();
    auto count = [&](const std::string& sql) { return conn.exec(sql).int64(0, 0); };
    auto has_table = [&] { return count("SELECT count(*) FROM pg_class WHERE oid = to_regclass('drover.job_listing')") == 1; };
    auto has_index = [&] { return count("SELECT count(*) FROM pg_class WHERE oid = to_regclass('drover.jobs_by_app_newest')") == 1; };
    for (int i = 0; i < 20 && has_table(); ++i) {
        BOOST_REQUIRE_MESSAGE(dbmate(database, {"rollback"}, &out) == 0, out);
    }
    BOOST_REQUIRE(!has_table());
    BOOST_REQUIRE(has_index());
    conn.exec("INSERT INTO drover.apps (name) VALUES ('other') ON CONFLICT DO NOTHING");
    conn.exec("INSERT INTO drover.jobs (app, kind) SELECT CASE WHEN g % 4 = 0 THEN 'other' ELSE 'default' END, 'noop' "
              "FROM generate_series(1, 4000) AS g");
    conn.exec("UPDATE drover.jobs SET status = 'succeeded', attempt = 1, started_at = now(), finished_at = now() "
              "WHERE id > 3000");
    BOOST_REQUIRE_MESSAGE(dbmate(database, {"up"}, &out) == 0, out);
    BOOST_TEST(has_table());
    BOOST_TEST(!has_index());
    BOOST_TEST(count("SELECT count(*) FROM drover.job_listing") == 4000);
    BOOST_TEST(count("SELECT count(*) FROM drover.job_listing WHERE app = 'other'") == 1000);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs j JOIN drover.job_listing l USING (id, app)") == 4000);
    conn.exec("INSERT INTO drover.jobs (app, kind) VALUES ('other', 'noop')");
    BOOST_TEST(count("SELECT count(*) FROM drover.job_listing WHERE app = 'other'") == 1001);
    // And back, with the jobs in place.
    for (int i = 0; i < 20 && has_table(); ++i) {
        BOOST_REQUIRE_MESSAGE(dbmate(database, {"rollback"}, &out) == 0, out);
    }
    BOOST_TEST(has_index());
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == 4001);
}

BOOST_AUTO_TEST_CASE(committed_schema_dump_is_current) {
    test::TestDatabase database(false);
    auto conn = database.connect();
    db::Migrator(conn).up();
    auto dump_path = std::filesystem::temp_directory_path() / ("drover-schema-" + database.name() + ".sql");
    std::string out;
    int status = dbmate(database, {"--schema-file", dump_path.string(), "dump"}, &out);
    BOOST_REQUIRE_MESSAGE(status == 0, out);
    auto fresh = read_file(dump_path.string());
    std::filesystem::remove(dump_path);
    BOOST_REQUIRE(!fresh.empty());
    auto committed = read_file(std::string(DROVER_SOURCE_DIR) + "/sql/schema.sql");
    BOOST_TEST(comparable(committed) == comparable(fresh),
               "sql/schema.sql is stale: run scripts/dump-schema and commit the result");
}

BOOST_AUTO_TEST_SUITE_END()
