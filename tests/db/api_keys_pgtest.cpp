// Apps, API keys and the per-app limit, against a real Postgres: what is
// stored for a key (its prefix and SHA-256, never the key), how it is found
// and revoked, and max_unfinished_jobs held by the database itself, for the
// API's inserts and for drover.enqueue() from SQL alike.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <functional>
#include <thread>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/store/app_store.hpp"
#include "core/store/key_store.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

namespace {

std::string sqlstate_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const DbError& e) {
        return e.sqlstate();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_keys_pgtest)

BOOST_AUTO_TEST_CASE(the_default_app_exists_after_migration) {
    test::TestDatabase database;
    auto conn = database.connect();
    auto app = AppStore(conn).get("default");
    BOOST_REQUIRE(app.has_value());
    BOOST_TEST(!app->max_unfinished_jobs.has_value());
    BOOST_TEST(!app->rate_limit_per_s.has_value());
}

BOOST_AUTO_TEST_CASE(a_created_key_is_stored_as_prefix_and_sha256_only) {
    test::TestDatabase database;
    auto conn = database.connect();
    auto created = KeyStore(conn).create("default", Role::submit, "ci");
    const auto& key = created.plaintext;
    // drv_ + 16 hex, _, 64 hex (256 random bits).
    BOOST_TEST(key.size() == 4 + 16 + 1 + 64);
    BOOST_TEST(key.starts_with("drv_"));
    BOOST_TEST(key_prefix(key).value_or("") == created.key.prefix);
    BOOST_TEST((created.key.role == Role::submit));

    auto secret = key.substr(key.rfind('_') + 1);
    // Nothing in the table, cast to text column by column, holds the key or its secret.
    auto dump = conn.exec("SELECT t::text FROM drover.api_keys AS t");
    BOOST_REQUIRE_EQUAL(dump.rows(), 1);
    std::string row(dump.text(0, 0));
    BOOST_TEST(row.find(secret) == std::string::npos, row);
    BOOST_TEST(row.find(key) == std::string::npos, row);
    BOOST_TEST(conn.exec("SELECT encode(hash, 'hex') FROM drover.api_keys").text(0, 0) ==
               crypto::to_hex(crypto::sha256(key)));

    auto found = KeyStore(conn).find(created.key.prefix);
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(crypto::constant_time_equal(found->hash, crypto::sha256(key)));
    BOOST_TEST(!crypto::constant_time_equal(found->hash, crypto::sha256(key + "x")));
    BOOST_TEST(found->app.value_or("") == "default");
    BOOST_TEST(!found->revoked);
}

BOOST_AUTO_TEST_CASE(two_keys_differ_and_operator_keys_have_their_own_prefix) {
    test::TestDatabase database;
    auto conn = database.connect();
    KeyStore keys(conn);
    auto a = keys.create("default", Role::read);
    auto b = keys.create("default", Role::read);
    auto op = keys.create(std::nullopt, Role::operator_);
    BOOST_TEST(a.plaintext != b.plaintext);
    BOOST_TEST(a.key.prefix != b.key.prefix);
    BOOST_TEST(op.plaintext.starts_with("drvop_"));
    BOOST_TEST(!op.key.app.has_value());
    BOOST_TEST(keys.list("default").size() == 2u);
    BOOST_TEST(keys.list(std::nullopt).size() == 1u);
    // An app key without an app, or an operator key with one, is refused.
    BOOST_CHECK_THROW(keys.create(std::nullopt, Role::admin), InputError);
    BOOST_CHECK_THROW(keys.create("default", Role::operator_), InputError);
}

BOOST_AUTO_TEST_CASE(malformed_keys_have_no_prefix) {
    for (const char* bad : {"", "drv_", "Bearer", "drv_0123_abcd", "xyz_00000000000000aa_" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                            "drv_00000000000000AA_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                            "drv_00000000000000aa_0123"}) {
        BOOST_TEST(!key_prefix(bad).has_value(), bad);
    }
}

BOOST_AUTO_TEST_CASE(revoke_keeps_the_first_time_and_can_be_limited_to_an_app) {
    test::TestDatabase database;
    auto conn = database.connect();
    AppStore(conn).create("other");
    KeyStore keys(conn);
    auto k = keys.create("default", Role::admin);
    BOOST_TEST(!keys.revoke(k.key.id, std::string("other")).has_value());  // not other's key
    auto revoked = keys.revoke(k.key.id, std::string("default"));
    BOOST_REQUIRE(revoked.has_value());
    BOOST_REQUIRE(revoked->revoked_at.has_value());
    auto again = keys.revoke(k.key.id, std::nullopt);
    BOOST_TEST((again->revoked_at == revoked->revoked_at));
    BOOST_TEST(keys.find(k.key.prefix)->revoked);
}

BOOST_AUTO_TEST_CASE(a_job_of_an_unknown_app_is_refused) {
    test::TestDatabase database;
    auto conn = database.connect();
    BOOST_TEST(sqlstate_of([&] { conn.exec("SELECT drover.enqueue('noop', app => 'nobody')"); }) == "23503");
    BOOST_TEST(conn.exec("SELECT count(*) FROM drover.jobs").int64(0, 0) == 0);
}

BOOST_AUTO_TEST_CASE(max_unfinished_jobs_holds_for_enqueue_from_sql_and_frees_up_as_jobs_finish) {
    test::TestDatabase database;
    auto conn = database.connect();
    AppStore(conn).create("small", AppLimits{2, std::nullopt});
    conn.exec("SELECT drover.enqueue('noop', app => 'small')");
    conn.exec("SELECT drover.enqueue('noop', app => 'small')");
    BOOST_TEST(sqlstate_of([&] { conn.exec("SELECT drover.enqueue('noop', app => 'small')"); }) == "DR429");
    // A bulk insert that would pass the limit is refused whole.
    BOOST_TEST(sqlstate_of([&] {
                   conn.exec("INSERT INTO drover.jobs (app, kind) SELECT 'small', 'noop' FROM generate_series(1, 3)");
               }) == "DR429");
    BOOST_TEST(conn.exec("SELECT count(*) FROM drover.jobs WHERE app = 'small'").int64(0, 0) == 2);
    // Other apps are not limited by it.
    conn.exec("INSERT INTO drover.jobs (kind) SELECT 'noop' FROM generate_series(1, 5)");
    // A finished job frees its place.
    conn.exec("UPDATE drover.jobs SET status = 'cancelled', finished_at = now()"
              " WHERE id = (SELECT min(id) FROM drover.jobs WHERE app = 'small')");
    conn.exec("SELECT drover.enqueue('noop', app => 'small')");
    BOOST_TEST(conn.exec("SELECT count(*) FROM drover.jobs WHERE app = 'small' AND status = 'pending'").int64(0, 0) == 2);
    // A unique-key duplicate of an unfinished job inserts nothing, so it is not refused.
    AppStore(conn).set_limits("small", AppLimits{3, std::nullopt});
    conn.exec("SELECT drover.enqueue('noop', app => 'small', unique_key => 'u')");
    BOOST_TEST(sqlstate_of([&] { conn.exec("SELECT drover.enqueue('noop', app => 'small', unique_key => 'u')"); }) ==
               "");
}

BOOST_AUTO_TEST_CASE(max_unfinished_jobs_holds_across_concurrent_transactions) {
    test::TestDatabase database;
    {
        auto conn = database.connect();
        AppStore(conn).create("race", AppLimits{5, std::nullopt});
    }
    // 4 connections each insert 3 jobs in one transaction; only 5 places:
    // at most one transaction of 3 can go in... plus none other (3 + 3 > 5).
    std::vector<std::thread> threads;
    std::atomic<int> committed{0};
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            auto conn = database.connect();
            try {
                conn.exec("BEGIN");
                conn.exec("INSERT INTO drover.jobs (app, kind) SELECT 'race', 'noop' FROM generate_series(1, 3)");
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                conn.exec("COMMIT");
                ++committed;
            } catch (const DbError&) {
                conn.exec("ROLLBACK");
            }
        });
    }
    for (auto& t : threads) t.join();
    auto conn = database.connect();
    BOOST_TEST(committed.load() == 1);
    BOOST_TEST(conn.exec("SELECT count(*) FROM drover.jobs WHERE app = 'race'").int64(0, 0) == 3);
}

BOOST_AUTO_TEST_SUITE_END()
