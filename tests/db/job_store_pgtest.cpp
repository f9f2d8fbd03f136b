#include <boost/test/unit_test.hpp>

#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/store/job_store.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

namespace {

struct Fixture {
    test::TestDatabase database;
    db::Connection conn = database.connect();
    JobStore store{conn};

    std::int64_t add(const std::string& queue = "default", int priority = 0,
                     std::optional<std::string> run_at = std::nullopt, int max_attempts = 25) {
        NewJob j;
        j.kind = "noop";
        j.queue = queue;
        j.priority = priority;
        j.run_at = std::move(run_at);
        j.max_attempts = max_attempts;
        return store.insert(j).job.id;
    }
    std::string status(std::int64_t id) { return store.get(id, "default")->status; }
    std::int64_t count(const std::string& where) {
        return conn.exec("SELECT count(*) FROM drover.jobs WHERE " + where).int64(0, 0);
    }
};

Outcome outcome(std::int64_t id, int attempt, Outcome::Type type, std::optional<std::string> result = std::nullopt,
                std::optional<std::string> error = std::nullopt, std::optional<int> snooze_s = std::nullopt) {
    return Outcome{id, attempt, type, std::move(result), std::move(error), snooze_s, std::nullopt};
}

std::vector<std::int64_t> ids(const std::vector<ClaimedJob>& jobs) {
    std::vector<std::int64_t> out;
    for (const auto& j : jobs) out.push_back(j.id);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

static double seconds_value(db::Connection& conn, const std::string& sql) { return std::stod(std::string(conn.exec(sql).text(0, 0))); }

BOOST_FIXTURE_TEST_SUITE(job_store_pgtest, Fixture)

BOOST_AUTO_TEST_CASE(insert_then_get_round_trips_every_field) {
    NewJob j;
    j.kind = "sleep";
    j.args_json = R"({"ms": 5})";
    j.queue = "q1";
    j.priority = 3;
    j.run_at = "2030-01-01T00:00:00Z";
    j.max_attempts = 4;
    j.timeout_s = 9;
    j.unique_key = "u";
    auto inserted = store.insert(j);
    BOOST_TEST(inserted.created);
    auto got = store.get(inserted.job.id, "default");
    BOOST_REQUIRE(got);
    BOOST_TEST(got->status == "pending");
    BOOST_TEST(got->args_json == R"({"ms": 5})");
    BOOST_TEST(got->queue == "q1");
    BOOST_TEST(got->priority == 3);
    BOOST_TEST(got->run_at == "2030-01-01T00:00:00Z");
    BOOST_TEST(got->max_attempts == 4);
    BOOST_TEST(got->timeout_s.value() == 9);
    BOOST_TEST(got->attempt == 0);
    BOOST_TEST(!got->finished_at);
}

BOOST_AUTO_TEST_CASE(another_apps_job_is_not_found) {
    auto id = add();
    BOOST_TEST(!store.get(id, "other-app"));
    BOOST_TEST(!store.get(id + 1000, "default"));
}

BOOST_AUTO_TEST_CASE(claims_by_priority_then_run_at_then_id) {
    auto low = add("default", 0, "2020-01-01T00:00:00Z");
    auto high = add("default", 5, "2020-01-01T00:00:02Z");
    auto old_low = add("default", 0, "2019-01-01T00:00:00Z");
    auto future = add("default", 9, "2999-01-01T00:00:00Z");
    auto other_queue = add("other", 9);
    std::vector<std::int64_t> order;
    for (int i = 0; i < 4; ++i) {
        auto c = store.claim("w", "default", 1, 30);
        if (c.empty()) break;
        order.push_back(c[0].id);
    }
    BOOST_TEST((order == std::vector<std::int64_t>{high, old_low, low}));
    BOOST_TEST(status(future) == "pending");
    BOOST_TEST(status(other_queue) == "pending");
}

BOOST_AUTO_TEST_CASE(one_claim_returns_its_jobs_in_claim_order) {
    auto low = add("default", 0, "2020-01-01T00:00:00Z");
    auto high = add("default", 5, "2020-01-01T00:00:02Z");
    auto old_low = add("default", 0, "2019-01-01T00:00:00Z");
    auto negative = add("default", -3, "2018-01-01T00:00:00Z");
    auto c = store.claim("w", "default", 10, 30);
    std::vector<std::int64_t> order;
    for (const auto& j : c) order.push_back(j.id);
    BOOST_TEST((order == std::vector<std::int64_t>{high, old_low, low, negative}));
    BOOST_TEST(c[0].priority == 5);
    BOOST_TEST(c[3].priority == -3);
}

BOOST_AUTO_TEST_CASE(a_claim_from_a_position_starts_after_it) {
    auto a = add("default", 2, "2020-01-01T00:00:00Z");
    auto b = add("default", 0, "2020-01-01T00:00:00Z");
    auto c = add("default", 0, "2020-01-01T00:00:00Z");  // same priority and run_at as b: id decides
    auto d = add("default", 0, "2021-01-01T00:00:00Z");
    auto first = store.claim("w", "default", 2, 30);
    BOOST_REQUIRE(first.size() == 2u);
    BOOST_TEST(first[1].id == b);
    auto position = ClaimPosition::of(first[1]);
    // A job that sorts before the position is not seen from it...
    auto late_high = add("default", 9, "2020-01-01T00:00:00Z");
    auto next = store.claim("w", "default", 10, 30, std::nullopt, position);
    std::vector<std::int64_t> order;
    for (const auto& j : next) order.push_back(j.id);
    BOOST_TEST((order == std::vector<std::int64_t>{c, d}));
    BOOST_TEST(status(late_high) == "pending");
    // ...but a claim from the head finds it.
    auto head = store.claim("w", "default", 10, 30);
    BOOST_REQUIRE(head.size() == 1u);
    BOOST_TEST(head[0].id == late_high);
    BOOST_TEST(status(a) == "running");
}

// The claim reads its first priority level apart from the others, where
// run_at bounds the scan (jobs/claim.sql): order across levels, with future
// jobs between the due ones, from the head and from a position.
BOOST_AUTO_TEST_CASE(claims_across_priority_levels_skip_future_jobs) {
    auto p5_future = add("default", 5, "2999-01-01T00:00:00Z");
    auto p5 = add("default", 5, "2020-01-01T00:00:00Z");
    auto p0_b = add("default", 0, "2020-01-02T00:00:00Z");
    auto p0_future = add("default", 0, "2999-01-01T00:00:00Z");
    auto p0_a = add("default", 0, "2020-01-01T00:00:00Z");
    auto pm3 = add("default", -3, "2020-01-01T00:00:00Z");
    auto pm3_future = add("default", -3, "2999-01-01T00:00:00Z");
    auto first = store.claim("w", "default", 2, 30);
    BOOST_REQUIRE(first.size() == 2u);
    BOOST_TEST(first[0].id == p5);
    BOOST_TEST(first[1].id == p0_a);
    // From the position (level 0): the rest of level 0, then the level below.
    auto next = store.claim("w", "default", 10, 30, std::nullopt, ClaimPosition::of(first[1]));
    std::vector<std::int64_t> order;
    for (const auto& j : next) order.push_back(j.id);
    BOOST_TEST((order == std::vector<std::int64_t>{p0_b, pm3}));
    BOOST_TEST(store.claim("w", "default", 10, 30).empty());
    for (auto id : {p5_future, p0_future, pm3_future}) BOOST_TEST(status(id) == "pending");
    // An empty claim does not walk the future jobs of its level: 50,000 of
    // them fill ~150 leaf pages of jobs_claimable; the claim reads a few.
    conn.exec("INSERT INTO drover.jobs (kind, run_at) SELECT 'noop', '2999-01-01' FROM generate_series(1, 50000)");
    auto index_pages = [&] {
        conn.exec("SELECT pg_stat_force_next_flush()");
        return conn.exec("SELECT idx_blks_hit + idx_blks_read FROM pg_statio_user_indexes "
                         "WHERE indexrelname = 'jobs_claimable'")
            .int64(0, 0);
    };
    auto before = index_pages();
    BOOST_TEST(store.claim("w", "default", 10, 30).empty());
    auto read = index_pages() - before;
    BOOST_TEST(read < 40, "index pages read by an empty claim: " << read);
}

BOOST_AUTO_TEST_CASE(claim_sets_running_lease_and_attempt) {
    auto id = add();
    auto c = store.claim("worker-1", "default", 10, 30);
    BOOST_REQUIRE(c.size() == 1u);
    BOOST_TEST(c[0].attempt == 1);
    auto row = conn.exec("SELECT lease_owner, lease_expires_at > now() + interval '25 seconds', started_at IS NOT NULL "
                         "FROM drover.jobs WHERE id = " + std::to_string(id));
    BOOST_TEST(row.text(0, 0) == "worker-1");
    BOOST_TEST(row.boolean(0, 1));
    BOOST_TEST(row.boolean(0, 2));
    BOOST_TEST(store.claim("worker-2", "default", 10, 30).empty());
}

BOOST_AUTO_TEST_CASE(skips_rows_locked_by_another_transaction) {
    auto a = add();
    auto b = add();
    auto other = database.connect();
    other.exec("BEGIN");
    other.exec("SELECT id FROM drover.jobs WHERE id = " + std::to_string(a) + " FOR UPDATE");
    auto c = store.claim("w", "default", 10, 30);  // must not wait for the lock
    BOOST_TEST((ids(c) == std::vector<std::int64_t>{b}));
    other.exec("ROLLBACK");
}

BOOST_AUTO_TEST_CASE(concurrent_claimers_never_share_a_job) {
    for (int i = 0; i < 2000; ++i) add();
    std::vector<std::vector<std::int64_t>> got(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto c = database.connect();
            JobStore s(c);
            for (;;) {
                auto batch = s.claim("w" + std::to_string(t), "default", 37, 30);
                if (batch.empty()) break;
                for (auto& j : batch) got[t].push_back(j.id);
            }
        });
    }
    for (auto& t : threads) t.join();
    std::set<std::int64_t> all;
    std::size_t total = 0;
    for (auto& g : got) {
        total += g.size();
        all.insert(g.begin(), g.end());
    }
    BOOST_TEST(total == 2000u);
    BOOST_TEST(all.size() == 2000u);
}

BOOST_AUTO_TEST_CASE(completes_only_jobs_it_still_owns) {
    auto mine = add();
    auto theirs = add();
    store.claim("me", "default", 1, 30);
    store.claim("them", "default", 1, 30);
    auto recorded = store.complete_many(
        "me", {outcome(mine, 1, Outcome::Type::succeeded, R"({"n": 1})"),
               outcome(theirs, 1, Outcome::Type::failed, std::nullopt, "not mine")});
    BOOST_TEST((recorded == std::vector<std::int64_t>{mine}));
    auto job = store.get(mine, "default");
    BOOST_TEST(job->status == "succeeded");
    BOOST_TEST(job->result_json.value() == R"({"n": 1})");
    BOOST_TEST(job->finished_at.has_value());
    BOOST_TEST(status(theirs) == "running");
    // A late second completion of the same job changes nothing.
    BOOST_TEST(store.complete_many("me", {outcome(mine, 1, Outcome::Type::failed, std::nullopt, "late")}).empty());
    BOOST_TEST(status(mine) == "succeeded");
}

BOOST_AUTO_TEST_CASE(retry_backs_off_until_attempts_run_out) {
    auto id = add("default", 0, std::nullopt, 2);
    store.claim("w", "default", 1, 30);
    store.complete_many("w", {outcome(id, 1, Outcome::Type::retry, std::nullopt, "boom 1")});
    auto job = store.get(id, "default");
    BOOST_TEST(job->status == "pending");
    BOOST_TEST(job->last_error.value() == "boom 1");
    // attempt 1 → 2 s backoff ±10 %.
    auto delay = conn.exec("SELECT extract(epoch FROM run_at - now()) FROM drover.jobs WHERE id = " + std::to_string(id));
    double seconds = std::stod(std::string(delay.text(0, 0)));
    BOOST_TEST(seconds > 1.7);
    BOOST_TEST(seconds < 2.3);
    BOOST_TEST(store.claim("w", "default", 1, 30).empty());  // not due yet
    auto later = store.claim("w", "default", 1, 30, "2999-01-01T00:00:00Z");
    BOOST_REQUIRE(later.size() == 1u);
    BOOST_TEST(later[0].attempt == 2);
    store.complete_many("w", {outcome(id, 2, Outcome::Type::retry, std::nullopt, "boom 2")});
    job = store.get(id, "default");
    BOOST_TEST(job->status == "failed");
    BOOST_TEST(job->errors_json.find("boom 1") != std::string::npos);
    BOOST_TEST(job->errors_json.find("boom 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(retry_uses_the_kinds_own_backoff_when_given) {
    auto id = add();
    store.claim("w", "default", 1, 30);
    auto o = outcome(id, 1, Outcome::Type::retry, std::nullopt, "boom");
    o.retry_in_s = 600;
    store.complete_many("w", {o});
    auto delay = conn.exec("SELECT extract(epoch FROM run_at - now()) FROM drover.jobs WHERE id = " + std::to_string(id));
    double seconds = std::stod(std::string(delay.text(0, 0)));
    BOOST_TEST(seconds > 530);  // 600 s ± 10 % jitter
    BOOST_TEST(seconds < 670);
}

BOOST_AUTO_TEST_CASE(permanent_failure_fails_at_once) {
    auto id = add();
    store.claim("w", "default", 1, 30);
    store.complete_many("w", {outcome(id, 1, Outcome::Type::failed, std::nullopt, "bad input")});
    auto job = store.get(id, "default");
    BOOST_TEST(job->status == "failed");
    BOOST_TEST(job->attempt == 1);
}

BOOST_AUTO_TEST_CASE(release_returns_the_job_without_using_an_attempt) {
    auto id = add();
    store.claim("w", "default", 1, 30);
    store.complete_many("w", {outcome(id, 1, Outcome::Type::release, std::nullopt, std::nullopt)});
    auto job = store.get(id, "default");
    BOOST_TEST(job->status == "pending");
    BOOST_TEST(job->attempt == 0);
    BOOST_TEST(store.claim("w", "default", 1, 30).size() == 1u);
}

BOOST_AUTO_TEST_CASE(error_history_is_bounded) {
    auto id = add("default", 0, std::nullopt, 100);
    for (int i = 0; i < 30; ++i) {
        BOOST_REQUIRE(store.claim("w", "default", 1, 30, "2999-01-01T00:00:00Z").size() == 1u);
        store.complete_many("w", {outcome(id, i + 1, Outcome::Type::retry, std::nullopt, "e" + std::to_string(i))});
    }
    auto n = conn.exec("SELECT jsonb_array_length(errors), errors->-1->>'error' FROM drover.jobs WHERE id = " +
                       std::to_string(id));
    BOOST_TEST(n.int64(0, 0) == 20);
    BOOST_TEST(n.text(0, 1) == "e29");
}

BOOST_AUTO_TEST_CASE(extend_leases_reports_leases_lost) {
    auto a = add();
    auto b = add();
    store.claim("w", "default", 2, 30);
    conn.exec("UPDATE drover.jobs SET lease_owner = 'rescuer' WHERE id = " + std::to_string(b));
    auto held = store.extend_leases("w", {a, b}, 60);
    BOOST_REQUIRE(held.size() == 1u);
    BOOST_TEST(held[0].id == a);
    BOOST_TEST(!held[0].cancel_requested);
}

BOOST_AUTO_TEST_CASE(unique_key_dedups_against_unfinished_jobs_only) {
    NewJob j;
    j.kind = "noop";
    j.unique_key = "report-42";
    auto first = store.insert(j);
    auto second = store.insert(j);
    BOOST_TEST(first.created);
    BOOST_TEST(!second.created);
    BOOST_TEST(second.job.id == first.job.id);
    store.claim("w", "default", 1, 30);
    store.complete_many("w", {outcome(first.job.id, 1, Outcome::Type::succeeded, std::nullopt, std::nullopt)});
    auto third = store.insert(j);
    BOOST_TEST(third.created);
    BOOST_TEST(third.job.id != first.job.id);
}

BOOST_AUTO_TEST_CASE(concurrent_inserts_with_one_unique_key_create_one_job) {
    std::atomic<int> created{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            auto c = database.connect();
            JobStore s(c);
            NewJob j;
            j.kind = "noop";
            j.unique_key = "race";
            for (int i = 0; i < 25; ++i) created += s.insert(j).created ? 1 : 0;
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(created.load() == 1);
    BOOST_TEST(count("unique_key = 'race'") == 1);
}

BOOST_AUTO_TEST_CASE(queue_limit_holds_across_concurrent_claimers) {
    for (int i = 0; i < 50; ++i) add("limited");
    store.set_queue_limit("limited", 3);
    std::atomic<int> claimed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            auto c = database.connect();
            JobStore s(c);
            for (int i = 0; i < 10; ++i) claimed += static_cast<int>(s.claim_limited("w" + std::to_string(t), "limited", 2, 30).size());
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(claimed.load() == 3);
    BOOST_TEST(count("queue = 'limited' AND status = 'running'") == 3);
    // Room comes back as jobs finish.
    auto running = conn.exec("SELECT id, attempt FROM drover.jobs WHERE status = 'running' LIMIT 1");
    store.complete_many("w0", {outcome(running.int64(0, 0), 1, Outcome::Type::succeeded)});
    conn.exec("UPDATE drover.jobs SET lease_owner = 'w0' WHERE status = 'running'");  // one owner for the check
    BOOST_TEST(store.claim_limited("w9", "limited", 5, 30).size() <= 1u);
    BOOST_TEST(count("queue = 'limited' AND status = 'running'") <= 3);
    BOOST_TEST((store.limited_queues() == std::vector<std::string>{"limited"}));
}

BOOST_AUTO_TEST_CASE(unlimited_queue_claims_through_the_limited_path_too) {
    for (int i = 0; i < 5; ++i) add("free");
    BOOST_TEST(store.claim_limited("w", "free", 10, 30).size() == 5u);
}

BOOST_AUTO_TEST_CASE(rescue_puts_back_expired_leases_and_fails_spent_ones) {
    auto again = add("default", 0, std::nullopt, 3);
    auto spent = add("default", 0, std::nullopt, 1);
    auto healthy = add();
    store.claim("dead-worker", "default", 2, 30);
    store.claim("live-worker", "default", 1, 30);
    // An hour later only the live worker renewed its lease.
    auto later = "2999-01-01T00:00:00Z";
    store.extend_leases("live-worker", {healthy}, 3600, later);
    BOOST_TEST(store.rescue_expired(100, later) == 2);
    BOOST_TEST(status(again) == "pending");
    BOOST_TEST(status(spent) == "failed");
    BOOST_TEST(status(healthy) == "running");
    BOOST_TEST(store.get(again, "default")->last_error.value().find("lease expired") != std::string::npos);
    BOOST_TEST(store.rescue_expired(100, later) == 0);  // running it twice is harmless
    // The dead worker's late completion is refused.
    BOOST_TEST(store.complete_many("dead-worker", {outcome(again, 1, Outcome::Type::succeeded)}).empty());
}

BOOST_AUTO_TEST_CASE(cancel_pending_at_once_running_on_request) {
    auto pending = add();
    auto running = add();
    conn.exec("UPDATE drover.jobs SET priority = 1 WHERE id = " + std::to_string(running));
    store.claim("w", "default", 1, 30);
    BOOST_TEST(store.cancel(pending, "default")->status == "cancelled");
    auto r = store.cancel(running, "default");
    BOOST_TEST(r->status == "running");
    BOOST_TEST(r->cancel_requested_at.has_value());
    auto held = store.extend_leases("w", {running}, 30);
    BOOST_REQUIRE(held.size() == 1u);
    BOOST_TEST(held[0].cancel_requested);
    store.complete_many("w", {outcome(running, 1, Outcome::Type::cancelled)});
    BOOST_TEST(status(running) == "cancelled");
    BOOST_TEST(!store.cancel(running, "default"));     // finished: nothing to cancel
    BOOST_TEST(!store.cancel(pending, "other-app"));  // another app's job is not found
}

BOOST_AUTO_TEST_CASE(snooze_reruns_later_without_using_an_attempt) {
    auto id = add();
    store.claim("w", "default", 1, 30);
    store.complete_many("w", {outcome(id, 1, Outcome::Type::snooze, std::nullopt, std::nullopt, 60)});
    auto job = store.get(id, "default");
    BOOST_TEST(job->status == "pending");
    BOOST_TEST(job->attempt == 0);
    BOOST_TEST(store.claim("w", "default", 1, 30).empty());
    BOOST_TEST(store.claim("w", "default", 1, 30, "2999-01-01T00:00:00Z").size() == 1u);
}

BOOST_AUTO_TEST_CASE(logs_page_in_order_with_a_cursor) {
    auto id = add();
    BOOST_REQUIRE(store.claim("w", "default", 1, 30).size() == 1u);
    std::vector<LogLine> lines;
    for (int i = 0; i < 25; ++i) lines.push_back({0, id, 1, i % 2 ? "stderr" : "stdout", "2026-01-01T00:00:00Z", "line " + std::to_string(i)});
    BOOST_TEST(store.append_logs("w", lines) == 25);
    std::vector<std::string> seen;
    std::int64_t cursor = 0;
    for (;;) {
        auto page = store.logs_page(id, "default", cursor, 10);
        if (page.empty()) break;
        for (auto& l : page) seen.push_back(l.line);
        cursor = page.back().id;
    }
    BOOST_REQUIRE(seen.size() == 25u);
    for (int i = 0; i < 25; ++i) BOOST_TEST(seen[i] == "line " + std::to_string(i));
    BOOST_TEST(store.logs_page(id, "other-app", 0, 10).empty());
}

BOOST_AUTO_TEST_CASE(rescue_waits_the_kinds_own_backoff) {
    auto slow = add();
    auto other = add();
    conn.exec("UPDATE drover.jobs SET kind = 'slow' WHERE id = " + std::to_string(slow));
    store.claim("dead-worker", "default", 2, 30);
    auto later = "2999-01-01T00:00:00Z";
    // Attempt 1 failed: the kind's backoff says 1000 s; the default says 1^4 + 1 = 2 s.
    BOOST_TEST(store.rescue_expired(100, later, {{"slow", Backoff{1000, 2, 3600}}}) == 2);
    auto delay = [&](std::int64_t id) {
        return seconds_value(conn, "SELECT extract(epoch FROM run_at - '2999-01-01T00:00:00Z')::float8 FROM drover.jobs "
                               "WHERE id = " + std::to_string(id));
    };
    BOOST_TEST(delay(slow) >= 900.0);
    BOOST_TEST(delay(slow) <= 1100.0);
    BOOST_TEST(delay(other) >= 1.8);
    BOOST_TEST(delay(other) <= 2.2);
}

BOOST_AUTO_TEST_CASE(append_logs_keeps_only_lines_of_attempts_the_worker_holds) {
    auto mine = add();
    auto lost = add();
    BOOST_REQUIRE(store.claim("w", "default", 2, 30).size() == 2u);
    // `lost`'s lease expires and the rescue puts it back: a second worker runs attempt 2.
    conn.exec("UPDATE drover.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = " + std::to_string(lost));
    BOOST_REQUIRE(store.rescue_expired(10) == 1);
    BOOST_REQUIRE(store.claim("w2", "default", 1, 30, "2999-01-01T00:00:00Z").size() == 1u);
    auto line = [](std::int64_t job, int attempt, std::string text) {
        return LogLine{0, job, attempt, "stdout", "2026-01-01T00:00:00Z", std::move(text)};
    };
    // The first worker still writes for both: its line for `lost` is dropped,
    // whatever attempt it names; the second worker's line is kept.
    BOOST_TEST(store.append_logs("w", {line(mine, 1, "a"), line(lost, 1, "stale"), line(lost, 2, "forged"),
                                       line(mine, 1, "b")}) == 2);
    BOOST_TEST(store.append_logs("w2", {line(lost, 2, "fresh"), line(lost, 1, "old attempt")}) == 1);
    std::vector<std::string> kept;
    for (auto& l : store.logs_page(mine, "default", 0, 10)) kept.push_back(l.line);
    for (auto& l : store.logs_page(lost, "default", 0, 10)) kept.push_back(l.line);
    BOOST_TEST(kept == (std::vector<std::string>{"a", "b", "fresh"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(schema_refuses_inconsistent_rows) {
    auto id = std::to_string(add());
    BOOST_CHECK_THROW(conn.exec("UPDATE drover.jobs SET status = 'succeeded' WHERE id = " + id), DbError);
    BOOST_CHECK_THROW(conn.exec("UPDATE drover.jobs SET status = 'running' WHERE id = " + id), DbError);
    BOOST_CHECK_THROW(conn.exec("UPDATE drover.jobs SET finished_at = now() WHERE id = " + id), DbError);
    BOOST_CHECK_THROW(conn.exec("UPDATE drover.jobs SET args = '[]' WHERE id = " + id), DbError);
    BOOST_CHECK_THROW(conn.exec("UPDATE drover.jobs SET status = 'lost' WHERE id = " + id), DbError);
    BOOST_TEST(status(std::stoll(id)) == "pending");
}

BOOST_AUTO_TEST_SUITE_END()
