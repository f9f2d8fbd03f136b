// Prefetch and reused job folders, end to end. A worker whose recent jobs
// were short claims more jobs than it has slots and keeps the rest waiting
// (status running, leased to it) until a slot frees. Those waiting jobs must
// be cancellable, released on SIGTERM without using an attempt, kept leased
// by the heartbeat, dropped when their lease is lost, and given back when
// they wait too long. Each runner slot reuses one working folder: nothing a
// job leaves there reaches the next job.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <fstream>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/wait.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    e2e::TempDir files;
    test::DroverStack stack{e2e::kinds_file({
        e2e::CommandKind("quick", "exit 0"),
        e2e::CommandKind("slow", "sleep 0.3"),
        // Runs until the test creates $FILES/go.
        e2e::CommandKind("gate", R"(while [ ! -e "$FILES/go" ]; do sleep 0.02; done)").with_env("FILES", files.str()).shares(files.str()),
        e2e::CommandKind("mark", R"(touch "$FILES/ran-$DROVER_JOB_ID")").with_env("FILES", files.str()).shares(files.str()),
        // Records what it finds in its folder, then leaves a mess behind.
        e2e::CommandKind("litter",
                         R"(find . -mindepth 1 | sort > "$FILES/seen-$DROVER_JOB_ID"; pwd > "$FILES/pwd-$DROVER_JOB_ID"; )"
                         R"(cat "$DROVER_ARGS_FILE" > "$FILES/args-$DROVER_JOB_ID"; )"
                         R"(touch "$DROVER_INBOUND/in" "$DROVER_OUTBOUND/out" cwd-file; mkdir -p sub/deeper; )"
                         R"(touch sub/deeper/x; echo changed > args.json.bak)")
            .with_env("FILES", files.str()).shares(files.str()),
        e2e::CommandKind("nasty",
                         R"(rm -rf outbound; ln -s "$FILES/target" outbound; chmod 500 inbound; touch cwd-file)")
            .with_env("FILES", files.str()).shares(files.str()),
    })};
    db::Connection conn = stack.database().connect();

    std::string status(std::int64_t id) {
        return e2e::text_value(conn, "SELECT status::text FROM drover.jobs WHERE id = " + std::to_string(id));
    }
    std::int64_t attempt(std::int64_t id) {
        return e2e::scalar(conn, "SELECT attempt FROM drover.jobs WHERE id = " + std::to_string(id));
    }
    std::int64_t insert(const std::string& kind, int priority = 0) {
        return e2e::scalar(conn, "INSERT INTO drover.jobs (kind, priority) VALUES ('" + kind + "', " +
                                     std::to_string(priority) + ") RETURNING id");
    }
    bool ran(std::int64_t id) { return std::filesystem::exists(files.path() / ("ran-" + std::to_string(id))); }

    // A worker with one slot that has seen enough short jobs to prefetch.
    test::Process& warm_worker(std::map<std::string, std::string> env) {
        env.emplace("DROVER_CONCURRENCY", "1");
        // Prefetch starts once jobs average under 200 ms; a sandbox's start
        // and end alone take 40-200 ms on a loaded 2-core machine, so the
        // prefetch logic is tested on plain processes (sandbox_e2etest
        // covers the sandbox).
        env.emplace("DROVER_SANDBOX", "off");
        env.emplace("DROVER_PREFETCH_MAX_WAIT_MS", "60000");
        stack.start_api();
        auto& worker = *stack.workers()[stack.start_worker(env)];
        conn.exec("INSERT INTO drover.jobs (kind) SELECT 'quick' FROM generate_series(1, 12)");
        BOOST_REQUIRE_MESSAGE(e2e::poll_until([&] { return e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE "
                                                                          "status = 'succeeded'") == 12; },
                                              20s, 20ms),
                              stack.output());
        return worker;
    }

    // One gate job running and two mark jobs claimed behind it, waiting.
    struct Held {
        std::int64_t gate, first, second;
    };
    Held gate_and_two_waiting() {
        // One priority for all three: they share run_at (one statement), so the
        // gate, inserted first, comes first for a claim from the head and for
        // one from the worker's position alike (at priority 0, after the
        // warm-up jobs). A gate at priority 10 was skipped by a claim from that
        // position, which then put a mark into the free slot (seen under load).
        auto ids = conn.exec(
            "INSERT INTO drover.jobs (kind, priority) VALUES ('gate', 0), ('mark', 0), ('mark', 0) RETURNING id");
        Held h{ids.int64(0, 0), ids.int64(1, 0), ids.int64(2, 0)};
        BOOST_REQUIRE_MESSAGE(
            e2e::poll_until([&] { return status(h.gate) == "running" && status(h.first) == "running" &&
                                         status(h.second) == "running"; },
                            10s, 10ms),
            "not all three claimed: " << status(h.gate) << " " << status(h.first) << " " << status(h.second) << "\n"
                                      << stack.output());
        std::this_thread::sleep_for(200ms);
        BOOST_REQUIRE(!ran(h.first));  // one slot: they wait behind the gate
        BOOST_REQUIRE(!ran(h.second));
        return h;
    }
    void open_gate() { std::ofstream(files.path() / "go") << "go"; }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(prefetch_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(a_cancelled_prefetched_job_ends_cancelled_without_running) {
    warm_worker({});
    auto held = gate_and_two_waiting();
    auto r = test::http_request(stack.port(), "POST", "/v1/jobs/" + std::to_string(held.first) + "/cancel");
    BOOST_TEST(r.status == 200, r.body);
    BOOST_TEST(e2e::poll_until([&] { return status(held.first) == "cancelled"; }, 5s, 10ms), stack.output());
    BOOST_TEST(status(held.gate) == "running");  // ended while the slot was still busy
    open_gate();
    BOOST_TEST(e2e::poll_until([&] { return status(held.second) == "succeeded"; }, 10s, 10ms), stack.output());
    BOOST_TEST(status(held.gate) == "succeeded");
    BOOST_TEST(!ran(held.first));
    BOOST_TEST(ran(held.second));
}

BOOST_AUTO_TEST_CASE(sigterm_releases_prefetched_jobs_without_using_an_attempt) {
    auto& worker = warm_worker({{"DROVER_SHUTDOWN_GRACE_S", "20"}});
    auto held = gate_and_two_waiting();
    worker.signal(SIGTERM);
    // Released at once, while the running job still has its grace period.
    BOOST_TEST(e2e::poll_until([&] { return status(held.first) == "pending" && status(held.second) == "pending"; },
                               5s, 10ms),
               stack.output());
    BOOST_TEST(status(held.gate) == "running");
    open_gate();
    auto code = worker.wait_exit(15s);
    BOOST_REQUIRE_MESSAGE(code.has_value(), "worker still running after SIGTERM\n" << stack.output());
    BOOST_TEST(*code == 0);
    BOOST_TEST(status(held.gate) == "succeeded");
    for (auto id : {held.first, held.second}) {
        BOOST_TEST(e2e::text_value(conn, "SELECT status || '/' || attempt || '/' || (lease_owner IS NULL) || '/' || "
                                         "(started_at IS NOT NULL) FROM drover.jobs WHERE id = " + std::to_string(id))
                       .substr(0, 14) == "pending/0/true");
        BOOST_TEST(!ran(id));
    }
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE status = 'running'") == 0);
}

BOOST_AUTO_TEST_CASE(the_heartbeat_keeps_prefetched_leases_and_drops_a_lost_one) {
    // Lease 3 s (heartbeat every second), a rescue every 300 ms.
    warm_worker({{"DROVER_LEASE_S", "3"}, {"DROVER_RESCUE_INTERVAL_MS", "300"}});
    auto held = gate_and_two_waiting();
    // Another owner took the first one (as if rescued and claimed elsewhere).
    conn.exec("UPDATE drover.jobs SET lease_owner = 'someone-else', lease_expires_at = now() + interval '1 hour' "
              "WHERE id = " + std::to_string(held.first));
    std::this_thread::sleep_for(5s);  // longer than the lease
    BOOST_TEST(status(held.second) == "running");
    BOOST_TEST(attempt(held.second) == 1);  // never rescued
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE lease_expires_at > now() AND id = " +
                                     std::to_string(held.second)) == 1);
    open_gate();
    BOOST_TEST(e2e::poll_until([&] { return status(held.second) == "succeeded"; }, 10s, 10ms), stack.output());
    BOOST_TEST(attempt(held.second) == 1);
    std::this_thread::sleep_for(300ms);
    BOOST_TEST(!ran(held.first));  // dropped: its lease was someone else's
    BOOST_TEST(status(held.first) == "running");
    BOOST_TEST(e2e::text_value(conn, "SELECT lease_owner FROM drover.jobs WHERE id = " + std::to_string(held.first)) ==
               "someone-else");
}

BOOST_AUTO_TEST_CASE(a_prefetched_job_that_waits_too_long_is_given_back) {
    warm_worker({{"DROVER_PREFETCH_MAX_WAIT_MS", "300"}});
    // One priority for all three, as in gate_and_two_waiting().
    auto ids = conn.exec(
        "INSERT INTO drover.jobs (kind, priority) VALUES ('gate', 0), ('mark', 0), ('mark', 0) RETURNING id");
    auto gate = ids.int64(0, 0), first = ids.int64(1, 0), second = ids.int64(2, 0);
    BOOST_REQUIRE(e2e::poll_until([&] { return status(gate) == "running"; }, 10s, 10ms));
    // Given back unstarted, no attempt used, and not claimed again while the slot stays busy.
    BOOST_TEST(e2e::poll_until([&] { return status(first) == "pending" && status(second) == "pending"; }, 5s, 10ms),
               stack.output());
    std::this_thread::sleep_for(1s);
    BOOST_TEST(status(first) == "pending");
    BOOST_TEST(attempt(first) == 0);
    BOOST_TEST(attempt(second) == 0);
    open_gate();
    BOOST_TEST(e2e::poll_until([&] { return status(first) == "succeeded" && status(second) == "succeeded"; }, 10s,
                               10ms),
               stack.output());
    BOOST_TEST(attempt(first) == 1);
}

BOOST_AUTO_TEST_CASE(jobs_of_one_slot_see_nothing_of_each_other) {
    std::filesystem::create_directories(files.path() / "target");
    std::ofstream(files.path() / "target" / "keep") << "not the worker's";
    stack.start_api();
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_CONCURRENCY", "1"}})];
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 3; ++i) {
        auto r = stack.post_job(R"({"kind": "litter", "args": {"n": )" + std::to_string(i) + "}}");
        BOOST_REQUIRE_EQUAL(r.status, 202);
        ids.push_back(std::stoll(test::json_field(r.body, "id")));
        BOOST_REQUIRE(test::json_field(stack.wait_finished(std::to_string(ids.back())), "status") == "succeeded");
        if (i == 1) {
            // One that breaks its folder: a symlink for outbound/, inbound/ read-only.
            auto nasty = stack.post_job(R"({"kind": "nasty"})");
            BOOST_REQUIRE(test::json_field(stack.wait_finished(test::json_field(nasty.body, "id")), "status") ==
                          "succeeded");
        }
    }
    std::string first_pwd;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto id = std::to_string(ids[i]);
        // Only what the worker puts there, all empty.
        BOOST_TEST(e2e::read_file(files.path() / ("seen-" + id)) == "./args.json\n./inbound\n./outbound\n",
                   "job " << id);
        auto args = e2e::parse_json(e2e::read_file(files.path() / ("args-" + id)));
        BOOST_TEST(args["n"].GetInt() == static_cast<int>(i));
        auto pwd = e2e::read_file(files.path() / ("pwd-" + id));
        if (i == 0) first_pwd = pwd;
        BOOST_TEST(pwd == first_pwd);  // /job each time: a fresh folder per attempt, at the same place
    }
    // The symlinked folder was removed as a link, not followed.
    BOOST_TEST(e2e::read_file(files.path() / "target" / "keep") == "not the worker's");
    worker.signal(SIGTERM);
    BOOST_REQUIRE(worker.wait_exit(10s).has_value());
    // The worker removes its folders as it exits.
    auto jobs_dir = stack.dir() / "state" / "jobs";
    BOOST_TEST((!std::filesystem::exists(jobs_dir) || std::filesystem::is_empty(jobs_dir)));
}

// Claim size that adapts (issue 12): a worker fed instant jobs claims
// hundreds per round at its default concurrency.
BOOST_AUTO_TEST_CASE(a_burst_of_instant_jobs_is_claimed_in_large_rounds) {
    stack.start_worker({{"DROVER_SANDBOX", "off"}});  // default concurrency (10)
    // A few first: the worker learns that noop jobs take no time.
    conn.exec("INSERT INTO drover.jobs (kind) SELECT 'noop' FROM generate_series(1, 20)");
    BOOST_REQUIRE_MESSAGE(e2e::poll_until([&] { return e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE "
                                                                      "status = 'succeeded'") == 20; },
                                          20s, 20ms),
                          stack.output());
    conn.exec("INSERT INTO drover.jobs (kind) SELECT 'noop' FROM generate_series(1, 5000)");
    BOOST_REQUIRE_MESSAGE(e2e::poll_until([&] { return e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE "
                                                                      "status = 'succeeded'") == 5020; },
                                          60s, 50ms),
                          stack.output());
    // Each claim is one transaction: its jobs share one started_at.
    auto claims = e2e::scalar(conn, "SELECT count(DISTINCT started_at) FROM drover.jobs WHERE id > 20");
    BOOST_TEST(claims <= 50, claims << " claims for 5,000 instant jobs (concurrency 10)");
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE attempt <> 1") == 0);
}

// ... and does not hoard long jobs that another worker could run sooner,
// even right after a burst of instant jobs made both claim large rounds.
BOOST_AUTO_TEST_CASE(two_workers_share_a_backlog_of_long_jobs) {
    constexpr int kConcurrency = 2;
    for (int i = 0; i < 2; ++i) {
        std::filesystem::create_directories(stack.dir() / ("state-" + std::to_string(i)));
        stack.start_worker({{"DROVER_SANDBOX", "off"},
                            {"DROVER_CONCURRENCY", std::to_string(kConcurrency)},
                            {"DROVER_WORKER_ID", "fair-" + std::to_string(i)},
                            {"DROVER_STATE_DIR", (stack.dir() / ("state-" + std::to_string(i))).string()}});
    }
    conn.exec("INSERT INTO drover.jobs (kind) SELECT 'noop' FROM generate_series(1, 2000)");
    BOOST_REQUIRE_MESSAGE(e2e::poll_until([&] { return e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE "
                                                                      "status = 'succeeded'") == 2000; },
                                          30s, 20ms),
                          stack.output());
    constexpr int kSlow = 16;
    conn.exec("INSERT INTO drover.jobs (kind) SELECT 'slow' FROM generate_series(1, " + std::to_string(kSlow) + ")");
    std::map<std::int64_t, std::string> ran_on;  // job -> the last worker seen holding it
    std::map<std::string, std::int64_t> most_held;
    // A worker fed only instant jobs claims up to ~500 and gives back at
    // once what its slots and prefetch cannot hold: those show as running for
    // a round trip. What counts is what it keeps once it saw a long job run.
    auto settled = std::chrono::steady_clock::now() + 1s;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto r = conn.exec("SELECT id, lease_owner FROM drover.jobs WHERE kind = 'slow' AND status = 'running'");
        std::map<std::string, std::int64_t> held;
        for (int i = 0; i < r.rows(); ++i) {
            std::string owner(r.text(i, 1));
            ran_on[r.int64(i, 0)] = owner;
            ++held[owner];
        }
        if (std::chrono::steady_clock::now() > settled) {
            for (auto& [owner, n] : held) most_held[owner] = std::max(most_held[owner], n);
        }
        if (e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE kind = 'slow' AND status = 'succeeded'") == kSlow)
            break;
        std::this_thread::sleep_for(20ms);
    }
    BOOST_REQUIRE_MESSAGE(
        e2e::scalar(conn, "SELECT count(*) FROM drover.jobs WHERE kind = 'slow' AND status = 'succeeded'") == kSlow,
        stack.output());
    std::map<std::string, int> runs;
    for (auto& [id, owner] : ran_on) ++runs[owner];
    for (const char* w : {"fair-0", "fair-1"}) {
        // An even share is 8; each runs at least a quarter of the backlog.
        BOOST_TEST(runs[w] >= kSlow / 4, w << " ran " << runs[w] << " of " << kSlow);
        // Its slots plus the usual prefetch at most, never the whole backlog.
        BOOST_TEST(most_held[w] <= 3 * kConcurrency, w << " held " << most_held[w] << " long jobs at once");
    }
}

BOOST_AUTO_TEST_SUITE_END()
