#include <boost/test/unit_test.hpp>

#include <poll.h>

#include <set>

#include "core/db/connection.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

BOOST_AUTO_TEST_SUITE(enqueue_sql_pgtest)

BOOST_AUTO_TEST_CASE(enqueue_inside_a_transaction_exists_only_if_committed) {
    test::TestDatabase database;
    auto conn = database.connect();
    conn.exec("BEGIN");
    conn.exec("SELECT drover.enqueue('noop')");
    conn.exec("ROLLBACK");
    BOOST_TEST(conn.exec("SELECT count(*) FROM drover.jobs").int64(0, 0) == 0);
    conn.exec("BEGIN");
    auto r = conn.exec("SELECT (drover.enqueue('sleep', '{\"ms\": 1}', queue => 'q', priority => 2::smallint)).id");
    conn.exec("COMMIT");
    auto row = conn.exec("SELECT kind, queue, priority, status FROM drover.jobs WHERE id = " + std::string(r.text(0, 0)));
    BOOST_TEST(row.text(0, 0) == "sleep");
    BOOST_TEST(row.text(0, 1) == "q");
    BOOST_TEST(row.int64(0, 2) == 2);
    BOOST_TEST(row.text(0, 3) == "pending");
}

BOOST_AUTO_TEST_CASE(enqueue_with_a_unique_key_returns_the_unfinished_job) {
    test::TestDatabase database;
    auto conn = database.connect();
    auto a = conn.exec("SELECT (drover.enqueue('noop', unique_key => 'k')).id").int64(0, 0);
    auto b = conn.exec("SELECT (drover.enqueue('noop', unique_key => 'k')).id").int64(0, 0);
    BOOST_TEST(a == b);
}

BOOST_AUTO_TEST_CASE(a_bulk_insert_sends_one_notification_per_queue) {
    test::TestDatabase database;
    auto listener = database.connect();
    listener.exec("LISTEN drover_jobs");
    auto conn = database.connect();
    conn.exec("INSERT INTO drover.jobs (kind, queue) SELECT 'noop', CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END "
              "FROM generate_series(1, 1000) AS i");
    std::vector<db::Notification> got;
    for (int i = 0; i < 20 && got.size() < 2; ++i) {
        pollfd p{listener.socket(), POLLIN, 0};
        poll(&p, 1, 100);
        listener.consume_input();
        for (auto& n : listener.take_notifications()) got.push_back(n);
    }
    pollfd p{listener.socket(), POLLIN, 0};
    poll(&p, 1, 200);
    listener.consume_input();
    for (auto& n : listener.take_notifications()) got.push_back(n);
    BOOST_REQUIRE(got.size() == 2u);
    std::set<std::string> payloads{got[0].payload, got[1].payload};
    BOOST_TEST((payloads == std::set<std::string>{"a", "b"}));
}

BOOST_AUTO_TEST_SUITE_END()
