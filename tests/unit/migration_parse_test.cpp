#include <boost/test/unit_test.hpp>

#include "core/db/migrator.hpp"
#include "core/error.hpp"

using namespace drover;

BOOST_AUTO_TEST_SUITE(migration_parse_test)

BOOST_AUTO_TEST_CASE(splits_up_and_down_like_dbmate) {
    auto m = db::parse_migration("20260101000000_x.sql", "-- migrate:up\nCREATE TABLE t();\n-- migrate:down\nDROP TABLE t;\n");
    BOOST_TEST(m.version == "20260101000000");
    BOOST_TEST(m.up == "CREATE TABLE t();\n");
    BOOST_TEST(m.down == "DROP TABLE t;\n");
    BOOST_TEST(m.transaction);
}

BOOST_AUTO_TEST_CASE(honours_transaction_false) {
    auto m = db::parse_migration("1_x.sql", "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t(a);\n-- migrate:down\n");
    BOOST_TEST(!m.transaction);
}

BOOST_AUTO_TEST_CASE(refuses_files_without_sections_or_version) {
    BOOST_CHECK_THROW(db::parse_migration("1_x.sql", "CREATE TABLE t();"), Error);
    BOOST_CHECK_THROW(db::parse_migration("x.sql", "-- migrate:up\n-- migrate:down\n"), Error);
}

BOOST_AUTO_TEST_CASE(embedded_migrations_are_ordered_and_parse) {
    const auto& all = db::embedded_migrations();
    BOOST_REQUIRE(!all.empty());
    for (std::size_t i = 1; i < all.size(); ++i) BOOST_TEST(all[i - 1].version < all[i].version);
    BOOST_TEST(db::latest_migration_version() == all.back().version);
}

BOOST_AUTO_TEST_SUITE_END()
