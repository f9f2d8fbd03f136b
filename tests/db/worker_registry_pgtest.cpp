// Waking only as many workers as there is work: registered idle workers get
// a notification on their own channel, in number enough to cover the jobs
// inserted; with none idle (or none alive), drover_jobs is notified as before.
#include <boost/test/unit_test.hpp>

#include <poll.h>

#include <map>
#include <memory>

#include "core/db/connection.hpp"
#include "core/store/job_store.hpp"
#include "core/store/worker_registry.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

namespace {

// Everything a connection was notified of within `ms` (channel → payloads).
std::multimap<std::string, std::string> drain(db::Connection& conn, int ms = 300) {
    std::multimap<std::string, std::string> got;
    for (int waited = 0; waited < ms; waited += 50) {
        pollfd p{conn.socket(), POLLIN, 0};
        poll(&p, 1, 50);
        conn.consume_input();
        for (auto& n : conn.take_notifications()) got.emplace(n.channel, n.payload);
    }
    return got;
}

struct Fixture {
    test::TestDatabase database;
    db::Connection broadcast = database.connect();  // what every worker also listens on
    db::Connection conn = database.connect();
    std::vector<std::unique_ptr<db::Connection>> listeners;

    Fixture() { broadcast.exec("LISTEN drover_jobs"); }

    db::Connection& worker(const std::string& id, int idle_slots, const std::vector<std::string>& queues = {"default"}) {
        listeners.push_back(std::make_unique<db::Connection>(database.connect()));
        WorkerRegistry(*listeners.back()).register_listener(id, queues, idle_slots);
        return *listeners.back();
    }
    void insert(int n, const std::string& queue = "default") {
        conn.exec("INSERT INTO drover.jobs (kind, queue) SELECT 'noop', '" + queue + "' FROM generate_series(1, " +
                  std::to_string(n) + ")");
    }
    std::int64_t scalar(const std::string& sql) { return conn.exec(sql).int64(0, 0); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(worker_registry_pgtest, Fixture)

BOOST_AUTO_TEST_CASE(one_job_wakes_one_idle_worker_and_nobody_else) {
    auto& a = worker("a", 5);
    auto& b = worker("b", 5);
    insert(1);
    auto got_a = drain(a);
    auto got_b = drain(b, 50);
    BOOST_TEST(got_a.size() + got_b.size() == 1u);
    BOOST_TEST(drain(broadcast, 50).empty());
    for (const auto& [channel, payload] : got_a) {
        BOOST_TEST(channel == WorkerRegistry::channel_of(PQbackendPID(a.native())));
        BOOST_TEST(payload == "default");
    }
}

BOOST_AUTO_TEST_CASE(more_jobs_than_one_worker_has_slots_for_wake_more_workers) {
    auto& a = worker("a", 5);
    auto& b = worker("b", 5);
    auto& c = worker("c", 5);
    insert(8);  // two workers cover 8 jobs; the third stays asleep
    auto woken = static_cast<int>(!drain(a).empty()) + static_cast<int>(!drain(b, 50).empty()) +
                 static_cast<int>(!drain(c, 50).empty());
    BOOST_TEST(woken == 2);
    BOOST_TEST(drain(broadcast, 50).empty());
}

BOOST_AUTO_TEST_CASE(only_workers_of_the_queue_are_woken) {
    auto& other = worker("other", 5, {"other"});
    insert(1);
    BOOST_TEST(drain(other).empty());
    auto got = drain(broadcast, 50);
    BOOST_TEST(got.count("drover_jobs") == 1u);  // nobody idle on "default": everybody is told
}

BOOST_AUTO_TEST_CASE(with_no_idle_worker_every_worker_is_told) {
    auto& busy = worker("busy", 5);
    conn.exec("UPDATE drover.workers SET idle_slots = 0");
    insert(3);
    BOOST_TEST(drain(busy).empty());
    auto got = drain(broadcast, 50);
    BOOST_REQUIRE(got.size() == 1u);
    BOOST_TEST(got.begin()->second == "default");
}

BOOST_AUTO_TEST_CASE(a_registration_whose_connection_is_gone_is_passed_over) {
    worker("killed", 5);
    listeners.back().reset();  // its LISTEN connection closes, as when the worker is killed
    BOOST_REQUIRE(scalar("SELECT count(*) FROM drover.workers") == 1);
    // The backend exits a moment after its client is gone.
    for (int i = 0; i < 50 && scalar("SELECT count(*) FROM drover.workers w WHERE listen_pid IN "
                                     "(SELECT pid FROM pg_stat_get_activity(NULL))") > 0; ++i) {
        poll(nullptr, 0, 20);
    }
    insert(1);
    BOOST_TEST(drain(broadcast).count("drover_jobs") == 1u);
    // The next registration clears it away.
    worker("fresh", 5);
    BOOST_TEST(scalar("SELECT count(*) FROM drover.workers") == 1);
}

BOOST_AUTO_TEST_CASE(claims_record_the_slots_they_left_empty) {
    worker("w", 10);
    insert(3);
    JobStore store(conn);
    BOOST_TEST(store.claim("w", "default", 10, 30).size() == 3u);
    BOOST_TEST(scalar("SELECT idle_slots FROM drover.workers WHERE worker_id = 'w'") == 7);
    insert(4);
    BOOST_TEST(store.claim("w", "default", 4, 30).size() == 4u);  // every slot filled: it will claim again by itself
    BOOST_TEST(scalar("SELECT idle_slots FROM drover.workers WHERE worker_id = 'w'") == 0);
    WorkerRegistry(conn).unregister("w");
    BOOST_TEST(scalar("SELECT count(*) FROM drover.workers") == 0);
}

BOOST_AUTO_TEST_CASE(a_full_worker_passes_its_wakeup_on_to_everyone) {
    WorkerRegistry(conn).pass_on_wakeup({"default", "media"});
    auto got = drain(broadcast);
    BOOST_TEST(got.size() == 2u);
    BOOST_TEST(got.count("drover_jobs") == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
