// Per-kind concurrency limits (drover.kind_limits) through JobStore: claims
// racing on several connections never run more jobs of a limited kind than
// its limit, the per-queue claim leaves limited kinds alone but still takes
// the others, and a limited kind in a limited queue obeys both limits.
#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "core/store/job_store.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

namespace {

struct Fixture {
    test::TestDatabase database;
    db::Connection conn = database.connect();
    JobStore store{conn};

    std::int64_t add(const std::string& kind, const std::string& queue = "default", int priority = 0) {
        NewJob j;
        j.kind = kind;
        j.queue = queue;
        j.priority = priority;
        return store.insert(j).job.id;
    }
    void add_many(int n, const std::string& kind, const std::string& queue = "default") {
        for (int i = 0; i < n; ++i) add(kind, queue);
    }
    std::int64_t running(const std::string& where) {
        return conn.exec("SELECT count(*) FROM drover.jobs WHERE status = 'running' AND " + where).int64(0, 0);
    }
};

std::int64_t running_of_kind(db::Connection& c, const std::string& kind) {
    return c.exec("SELECT count(*) FROM drover.jobs WHERE status = 'running' AND kind = '" + kind + "'").int64(0, 0);
}

std::vector<Outcome> succeeded(const std::vector<ClaimedJob>& jobs) {
    std::vector<Outcome> out;
    for (const auto& j : jobs) out.push_back(Outcome{j.id, j.attempt, Outcome::Type::succeeded, {}, {}, {}, {}});
    return out;
}

std::vector<std::string> kinds_of(const std::vector<ClaimedJob>& jobs) {
    std::vector<std::string> out;
    for (const auto& j : jobs) out.push_back(j.kind);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(kind_limits_pgtest, Fixture)

BOOST_AUTO_TEST_CASE(racing_claimers_take_exactly_the_limit) {
    add_many(60, "render");
    store.set_kind_limit("render", 3);
    std::atomic<int> claimed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            auto c = database.connect();
            JobStore s(c);
            for (int i = 0; i < 10; ++i) {
                claimed += static_cast<int>(s.claim_kind("w" + std::to_string(t), "render", "default", 2, 30).size());
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(claimed.load() == 3);
    BOOST_TEST(running("kind = 'render'") == 3);
    BOOST_TEST((store.limited_kinds() == std::vector<std::string>{"render"}));
}

BOOST_AUTO_TEST_CASE(racing_claimers_that_complete_as_they_go_never_exceed_the_limit) {
    add_many(120, "render");
    store.set_kind_limit("render", 4);
    std::atomic<int> done{0};
    std::atomic<std::int64_t> most{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            auto c = database.connect();
            JobStore s(c);
            std::string me = "w" + std::to_string(t);
            for (int i = 0; i < 400 && done.load() < 120; ++i) {
                auto jobs = s.claim_kind(me, "render", "default", 3, 30);
                // Sampled at every commit of a claim: the moments the limit is at risk.
                auto now_running = running_of_kind(c, "render");
                auto seen = most.load();
                while (now_running > seen && !most.compare_exchange_weak(seen, now_running)) {
                }
                done += static_cast<int>(s.complete_many(me, succeeded(jobs)).size());
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(done.load() == 120);
    BOOST_TEST(most.load() <= 4);
    BOOST_TEST(most.load() >= 1);
    BOOST_TEST(conn.exec("SELECT count(*) FROM drover.jobs WHERE status = 'succeeded' AND attempt = 1").int64(0, 0) ==
               120);
}

BOOST_AUTO_TEST_CASE(the_queue_claim_skips_limited_kinds_and_takes_the_others) {
    add_many(5, "render");
    add_many(5, "noop");
    store.set_kind_limit("render", 1);
    auto others = store.claim("w", "default", 20, 30, std::nullopt, std::nullopt, {"render"});
    BOOST_TEST(others.size() == 5u);
    BOOST_TEST((kinds_of(others) == std::vector<std::string>{"noop"}));
    BOOST_TEST(running("kind = 'render'") == 0);
    // The same through write_round and claim_limited, the worker's other paths.
    add_many(2, "noop");
    JobStore::Round round;
    round.outcomes = succeeded(others);
    auto both = store.write_round("w", round, JobStore::ClaimRequest{"default", 20, 30, std::nullopt, {"render"}, std::nullopt});
    BOOST_TEST(both.recorded.size() == 5u);
    BOOST_TEST((kinds_of(both.claimed) == std::vector<std::string>{"noop"}));
    add_many(2, "noop");
    BOOST_TEST((kinds_of(store.claim_limited("w", "default", 20, 30, {"render"})) == std::vector<std::string>{"noop"}));
    BOOST_TEST(running("kind = 'render'") == 0);
    // The limited kind goes through its own claim, one at a time.
    auto limited = store.claim_kind("w", "render", "default", 20, 30);
    BOOST_TEST(limited.size() == 1u);
    BOOST_TEST((kinds_of(limited) == std::vector<std::string>{"render"}));
    BOOST_TEST(store.claim_kind("w", "render", "default", 20, 30).empty());
    BOOST_TEST(running("kind = 'render'") == 1);
    BOOST_TEST(running("kind = 'noop'") == 4);
}

BOOST_AUTO_TEST_CASE(a_kind_without_a_limit_row_claims_freely_through_claim_kind) {
    add_many(5, "render");
    BOOST_TEST(store.claim_kind("w", "render", "default", 10, 30).size() == 5u);
}

BOOST_AUTO_TEST_CASE(due_limited_kinds_are_those_with_room_in_order_of_their_best_job) {
    add("low", "default", 0);
    add("high", "default", 5);
    add("full", "default", 9);
    add("elsewhere", "other", 9);
    store.set_kind_limit("low", 2);
    store.set_kind_limit("high", 2);
    store.set_kind_limit("full", 1);
    store.set_kind_limit("elsewhere", 1);
    store.set_kind_limit("idle", 1);
    // One 'full' job runs already: that kind has no room left.
    add("full", "default", 0);
    BOOST_REQUIRE(store.claim_kind("w", "full", "default", 1, 30).size() == 1u);
    auto due = store.limited_kinds_due("default", {"low", "high", "full", "elsewhere", "idle"});
    BOOST_TEST((due == std::vector<std::string>{"high", "low"}));
    // A job scheduled later is not due.
    conn.exec("UPDATE drover.jobs SET run_at = now() + interval '1 hour' WHERE kind = 'high'");
    BOOST_TEST((store.limited_kinds_due("default", {"low", "high"}) == std::vector<std::string>{"low"}));
}

BOOST_AUTO_TEST_CASE(a_limited_kind_in_a_limited_queue_obeys_both_limits) {
    store.set_queue_limit("media", 2);
    store.set_kind_limit("render", 3);
    add_many(5, "render", "media");
    add_many(5, "render", "default");
    add_many(5, "noop", "media");
    auto finish_one = [&](const std::string& where) {
        auto r = conn.exec("SELECT id, attempt FROM drover.jobs WHERE status = 'running' AND " + where + " LIMIT 1");
        BOOST_REQUIRE(
            store.complete_many("w", {Outcome{r.int64(0, 0), 1, Outcome::Type::succeeded, {}, {}, {}, {}}}).size() ==
            1u);
    };
    BOOST_TEST(store.claim_kind("w", "render", "media", 10, 30).size() == 2u);    // the queue's limit binds
    BOOST_TEST(store.claim_kind("w", "render", "default", 10, 30).size() == 1u);  // the kind's: 3 - 2
    BOOST_TEST(store.claim_limited("w", "media", 10, 30, {"render"}).empty());    // media is full
    // A render in media ends: room in both, taken once.
    finish_one("queue = 'media'");
    BOOST_TEST(store.claim_kind("w", "render", "media", 10, 30).size() == 1u);
    BOOST_TEST(store.claim_limited("w", "media", 10, 30, {"render"}).empty());
    // A render elsewhere ends: the kind has room, media still has none.
    finish_one("queue = 'default'");
    BOOST_TEST(store.claim_kind("w", "render", "media", 10, 30).empty());
    BOOST_TEST(store.claim_kind("w", "render", "default", 10, 30).size() == 1u);
    BOOST_TEST(running("kind = 'render'") == 3);
    BOOST_TEST(running("queue = 'media'") == 2);
    // Media's room after a render there goes to a noop just as well.
    finish_one("queue = 'media'");
    auto noop = store.claim_limited("w", "media", 10, 30, {"render"});
    BOOST_TEST((kinds_of(noop) == std::vector<std::string>{"noop"}));
    BOOST_TEST(noop.size() == 1u);
    BOOST_TEST(store.claim_kind("w", "render", "media", 10, 30).empty());
    BOOST_TEST(running("queue = 'media'") == 2);
    BOOST_TEST(running("kind = 'render'") == 2);
}

BOOST_AUTO_TEST_CASE(racing_kind_and_queue_claims_hold_both_limits_without_deadlock) {
    store.set_queue_limit("media", 2);
    store.set_queue_limit("print", 2);
    store.set_kind_limit("render", 3);
    add_many(30, "render", "media");
    add_many(30, "render", "print");
    add_many(30, "render", "default");
    add_many(30, "noop", "media");
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            try {
                auto c = database.connect();
                JobStore s(c);
                std::string me = "w" + std::to_string(t);
                for (int i = 0; i < 15; ++i) {
                    switch ((t + i) % 4) {
                        case 0:
                            s.claim_kind(me, "render", "media", 2, 30);
                            break;
                        case 1:
                            s.claim_kind(me, "render", "print", 2, 30);
                            break;
                        case 2:
                            s.claim_kind(me, "render", "default", 2, 30);
                            break;
                        case 3:
                            s.claim_limited(me, "media", 2, 30, {"render"});
                            break;
                    }
                }
            } catch (const std::exception& e) {
                BOOST_TEST_MESSAGE("claimer failed: " << e.what());
                ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(running("kind = 'render'") == 3);
    BOOST_TEST(running("queue = 'media'") == 2);
    BOOST_TEST(running("queue = 'print'") <= 2);
}

BOOST_AUTO_TEST_CASE(a_kinds_file_owns_its_limits_and_removing_one_removes_it) {
    auto limits = [&](const std::string& table) {
        std::vector<std::string> out;
        auto r = conn.exec("SELECT " + std::string(table == "kind_limits" ? "kind" : "queue") +
                           " || '=' || concurrency || ':' || source FROM drover." + table + " ORDER BY 1");
        for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0));
        return out;
    };
    using V = std::vector<std::string>;
    // An operator paused a kind by hand; no kinds file may touch that row.
    conn.exec("INSERT INTO drover.kind_limits (kind, concurrency, source) VALUES ('paused', 0, 'operator')");
    auto first = store.declare_limits({{"render", 3}, {"print", 1}, {"paused", 5}}, {{"media", 2}});
    BOOST_TEST(limits("kind_limits") == (V{"paused=0:operator", "print=1:kinds_file", "render=3:kinds_file"}),
               boost::test_tools::per_element());
    BOOST_TEST(limits("queue_limits") == (V{"media=2:kinds_file"}), boost::test_tools::per_element());
    BOOST_REQUIRE(first.size() == 4u);
    BOOST_TEST(first[0].change == "operator_wins");  // paused: the file says 5, the operator's 0 stays
    BOOST_TEST(first[1].change == "added");
    // The next start's file dropped print and media and changed render: the rows follow it.
    auto second = store.declare_limits({{"render", 4}}, {});
    BOOST_TEST(limits("kind_limits") == (V{"paused=0:operator", "render=4:kinds_file"}), boost::test_tools::per_element());
    BOOST_TEST(limits("queue_limits").empty());
    std::vector<std::string> changes;
    for (const auto& c : second) changes.push_back(c.scope + " " + c.change + " " + c.name);
    BOOST_TEST(changes == (V{"kind removed print", "kind changed render", "queue removed media"}),
               boost::test_tools::per_element());
    // The same file again changes nothing.
    BOOST_TEST(store.declare_limits({{"render", 4}}, {}).empty());
    // A removed limit no longer holds claims back.
    add_many(5, "print");
    BOOST_TEST((store.limited_kinds() == V{"paused", "render"}));
}

BOOST_AUTO_TEST_SUITE_END()
