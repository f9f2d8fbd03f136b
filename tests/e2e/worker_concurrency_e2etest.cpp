// Several worker processes on one queue, end to end: every job runs exactly
// once (SKIP LOCKED claims never hand a job to two workers), every job ends
// succeeded on its first attempt, nothing is left leased.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <map>
#include <set>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    e2e::TempDir out;
    std::string ids_file = out.file("ids.txt");
    // Appends "<job id> <worker pid>" to one shared file ($PPID of the shell
    // is the worker that started it); O_APPEND keeps small lines whole.
    test::DroverStack stack{e2e::kinds_file({e2e::CommandKind("append_id", R"(echo "$DROVER_JOB_ID $PPID" >> "$IDS_FILE")")
                                                 .with_env("IDS_FILE", ids_file)
                                                 .shares(out.str())})};
    db::Connection conn = stack.database().connect();

    std::int64_t count(const std::string& where) {
        return e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE " + where);
    }

    // Waits until `total` jobs are final; fails with the workers' output if not.
    void wait_all_final(std::int64_t total, std::chrono::milliseconds timeout) {
        auto started = std::chrono::steady_clock::now();
        bool done = e2e::poll_until(
            [&] { return count("status IN ('succeeded', 'failed', 'cancelled')") == total; }, timeout, 200ms);
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        BOOST_TEST_MESSAGE(total << " jobs final after " << took.count() << " ms");
        std::string tail = stack.output();
        if (tail.size() > 4000) tail = tail.substr(tail.size() - 4000);
        BOOST_REQUIRE_MESSAGE(done, "only " << count("status IN ('succeeded', 'failed', 'cancelled')") << " of "
                                            << total << " jobs final; by status: "
                                            << e2e::text_value(conn,
                                                               "SELECT string_agg(status || '=' || n, ', ') FROM"
                                                               " (SELECT status::text, count(*) AS n FROM drover.jobs"
                                                               " GROUP BY 1) s")
                                            << "\n" << tail);
    }

    // SIGTERM every worker; each must stop cleanly (exit 0) with nothing in flight.
    void stop_workers() {
        for (auto& w : stack.workers()) w->signal(SIGTERM);
        for (auto& w : stack.workers()) {
            auto code = w->wait_exit(15s);
            BOOST_TEST(code.has_value());
            BOOST_TEST(code.value_or(-1) == 0);
        }
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(worker_concurrency_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(three_workers_run_each_command_job_exactly_once) {
    stack.start_api();
    // Unsandboxed: the job names its worker by its parent PID, which a
    // sandboxed job cannot see (its PID namespace); sandbox_e2etest covers the sandbox.
    for (int i = 0; i < 3; ++i) stack.start_worker({{"DROVER_CONCURRENCY", "4"}, {"DROVER_SANDBOX", "off"}});

    // 3,000 at once from SQL (one statement, one notification) …
    conn.exec("INSERT INTO drover.jobs (kind, args)"
              " SELECT 'append_id', jsonb_build_object('n', g) FROM generate_series(1, 3000) AS g");
    // … and 50 over HTTP while the workers are busy with them.
    std::set<std::string> http_ids;
    for (int i = 0; i < 50; ++i) {
        auto r = stack.post_job(R"({"kind": "append_id", "args": {"n": )" + std::to_string(3001 + i) + "}}");
        BOOST_REQUIRE_MESSAGE(r.status == 202, r.body);
        http_ids.insert(test::json_field(r.body, "id"));
    }
    BOOST_REQUIRE_EQUAL(http_ids.size(), 50u);
    const std::int64_t total = 3050;
    BOOST_REQUIRE_EQUAL(count("true"), total);

    wait_all_final(total, 50s);

    // Stored state: all succeeded at their first attempt, no lease left.
    BOOST_TEST(count("status = 'succeeded'") == total);
    BOOST_TEST(count("attempt = 1") == total);
    BOOST_TEST(count("lease_owner IS NULL AND lease_expires_at IS NULL") == total);
    BOOST_TEST(count("errors = '[]' AND last_error IS NULL") == total);
    BOOST_TEST(count("finished_at >= started_at") == total);

    // Side effect: one line per job, each job's id exactly once.
    auto lines = e2e::read_lines(ids_file);
    BOOST_TEST(lines.size() == static_cast<std::size_t>(total));
    std::set<std::string> seen;
    std::map<long, int> per_worker;
    for (const auto& line : lines) {
        auto space = line.find(' ');
        BOOST_REQUIRE_MESSAGE(space != std::string::npos, "torn line: '" << line << "'");
        seen.insert(line.substr(0, space));
        ++per_worker[std::stol(line.substr(space + 1))];
    }
    BOOST_TEST(seen.size() == static_cast<std::size_t>(total));
    // All three workers took part, and nobody else ran jobs.
    std::map<long, int> expected_workers;
    for (auto& w : stack.workers()) expected_workers[w->pid()] = 0;
    for (const auto& [pid, n] : per_worker) {
        BOOST_TEST(expected_workers.contains(pid), "a job ran under pid " << pid << ", not a worker");
        BOOST_TEST_MESSAGE("worker pid " << pid << " ran " << n << " jobs");
    }
    for (const auto& [pid, unused] : expected_workers) BOOST_TEST(per_worker[pid] > 0, "worker " << pid << " ran none");
    std::set<std::string> expected;
    auto all = conn.exec("SELECT id::text FROM drover.jobs");
    for (int i = 0; i < all.rows(); ++i) expected.emplace(all.text(i, 0));
    BOOST_TEST((seen == expected), "the ids in the file differ from the ids of the jobs");
    for (const auto& id : http_ids) BOOST_TEST(seen.contains(id));

    // Every worker is alive until told to stop, then stops cleanly.
    for (auto& w : stack.workers()) BOOST_TEST(w->running());
    stop_workers();
}

BOOST_AUTO_TEST_CASE(two_workers_drain_5000_noop_jobs_each_at_its_first_attempt) {
    for (int i = 0; i < 2; ++i) stack.start_worker();
    const std::int64_t total = 5000;
    conn.exec("INSERT INTO drover.jobs (kind) SELECT 'noop' FROM generate_series(1, 5000)");

    wait_all_final(total, 40s);

    BOOST_TEST(count("status = 'succeeded'") == total);
    // A claim raises attempt by one: attempt = 1 means claimed exactly once.
    BOOST_TEST(count("attempt = 1") == total);
    BOOST_TEST(count("lease_owner IS NULL AND lease_expires_at IS NULL") == total);
    BOOST_TEST(count("errors = '[]' AND last_error IS NULL") == total);
    BOOST_TEST(count("started_at IS NOT NULL AND finished_at >= started_at") == total);
    for (auto& w : stack.workers()) BOOST_TEST(w->running());
    stop_workers();
}

// A worker claims from where its last claim stopped (jobs/claim.sql); a job
// that sorts before that position must still jump the queue: at once when it
// comes with a NOTIFY (an insert), within the from-head period when it does
// not (here: a plain UPDATE of its priority).
BOOST_AUTO_TEST_CASE(higher_priority_jobs_jump_a_flood_that_is_being_claimed) {
    stack.start_worker({{"DROVER_CONCURRENCY", "2"}});
    // 400 jobs of 20 ms on 2 slots: about 4 s of work.
    conn.exec("INSERT INTO drover.jobs (kind, args) SELECT 'sleep', '{\"ms\": 20}' FROM generate_series(1, 400)");
    BOOST_REQUIRE(e2e::poll_until([&] { return count("status = 'succeeded'") >= 20; }, 20s, 10ms));

    auto inserted = e2e::scalar(conn, "INSERT INTO drover.jobs (kind, priority) VALUES ('noop', 10) RETURNING id");
    auto last = e2e::scalar(conn, "SELECT max(id) FROM drover.jobs WHERE kind = 'sleep'");
    conn.exec("UPDATE drover.jobs SET priority = 10 WHERE id = " + std::to_string(last) + " AND status = 'pending'");
    auto pending_then = count("status = 'pending' AND kind = 'sleep'");
    BOOST_REQUIRE(pending_then > 200);

    wait_all_final(401, 60s);
    auto started_after = [&](std::int64_t id) {
        return count("kind = 'sleep' AND started_at > (SELECT started_at FROM drover.jobs WHERE id = " +
                     std::to_string(id) + ")");
    };
    // With a claim per ~20 ms, the notified job starts within a claim or two;
    // the silent one within 500 ms (~50 jobs). Either way, long before the flood ends.
    BOOST_TEST(started_after(inserted) > pending_then - 20, started_after(inserted) << " of " << pending_then);
    BOOST_TEST(started_after(last) > pending_then - 150, started_after(last) << " of " << pending_then);
    BOOST_TEST(count("status = 'succeeded' AND attempt = 1") == 401);
    stop_workers();
}

// Inserts wake one idle worker each (drover.notify_jobs_inserted), not all
// of them; killed workers are passed over. The poll is a minute long, so a
// job that starts at all was started by a wake-up.
BOOST_AUTO_TEST_CASE(inserts_wake_only_the_idle_workers_they_need) {
    for (int i = 0; i < 3; ++i) stack.start_worker({{"DROVER_POLL_INTERVAL_MS", "60000"}});
    BOOST_REQUIRE(e2e::poll_until([&] { return e2e::scalar(conn, "SELECT count(*) FROM drover.workers") == 3; }, 20s));
    auto listener = stack.database().connect();
    listener.exec("LISTEN drover_jobs");

    auto insert_one_by_one = [&](int n) {
        for (int i = 0; i < n; ++i) {
            conn.exec("INSERT INTO drover.jobs (kind) VALUES ('noop')");
            std::this_thread::sleep_for(30ms);
        }
    };
    insert_one_by_one(30);
    wait_all_final(30, 20s);
    listener.consume_input();
    BOOST_TEST(listener.take_notifications().empty());  // nobody was told "to all"

    for (int i = 0; i < 2; ++i) {
        stack.workers()[i]->signal(SIGKILL);
        stack.workers()[i]->wait_exit(10s);
    }
    insert_one_by_one(10);
    wait_all_final(40, 20s);
    BOOST_TEST(count("status = 'succeeded' AND attempt = 1") == 40);
}

BOOST_AUTO_TEST_SUITE_END()
