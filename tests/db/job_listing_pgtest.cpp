// drover.job_listing (migration 20261202000100): the listing of an app's jobs
// is a table written once per job by triggers on drover.jobs, not an index
// every update adds to. Every way a job comes in or goes out must keep it
// true: the store's inserts, a batch, an operator's INSERT, a DELETE of one
// job or of many, a TRUNCATE; and the listing and queue summaries read
// through it must show each app its own jobs only, in order, page after page.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "core/store/api_job_store.hpp"
#include "core/store/job_store.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

namespace {

struct Fixture {
    test::TestDatabase database;
    db::Connection conn = database.connect();
    JobStore store{conn};
    ApiJobStore api{conn};

    Fixture() { conn.exec("INSERT INTO drover.apps (name) VALUES ('other')"); }

    std::int64_t add(const std::string& app, const std::string& kind = "noop") {
        NewJob j;
        j.app = app;
        j.kind = kind;
        return store.insert(j).job.id;
    }
    std::int64_t count(const std::string& sql) { return conn.exec(sql).int64(0, 0); }
    // Rows of job_listing that do not match a job, plus jobs it lacks: 0 when it is true.
    std::int64_t drift() {
        return count(
            "SELECT (SELECT count(*) FROM drover.job_listing l WHERE NOT EXISTS "
            "(SELECT 1 FROM drover.jobs j WHERE j.id = l.id AND j.app = l.app)) + "
            "(SELECT count(*) FROM drover.jobs j WHERE NOT EXISTS "
            "(SELECT 1 FROM drover.job_listing l WHERE l.id = j.id AND l.app = j.app))");
    }
    std::vector<std::int64_t> listed(const std::string& app, JobFilter filter = {}) {
        std::vector<std::int64_t> out;
        for (const auto& j : api.list(app, filter)) out.push_back(j.id);
        return out;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(job_listing_pgtest, Fixture)

BOOST_AUTO_TEST_CASE(every_way_in_and_out_keeps_the_listing_true) {
    std::int64_t a = add("default");
    std::int64_t b = add("other");
    NewJob batch_job;
    batch_job.app = "other";
    batch_job.kind = "noop";
    auto batch = api.insert_batch({batch_job, batch_job, batch_job});
    // An operator's INSERT by hand, many rows in one statement.
    conn.exec("INSERT INTO drover.jobs (app, kind) SELECT 'default', 'by_hand' FROM generate_series(1, 250)");
    BOOST_TEST(count("SELECT count(*) FROM drover.job_listing") == 255);
    BOOST_TEST(drift() == 0);

    // Claims and outcomes never touch it: its row versions stay the same.
    auto versions = [&] {
        return std::string(
            conn.exec("SELECT string_agg(xmin::text || ':' || ctid::text, ',' ORDER BY id) FROM drover.job_listing")
                .text(0, 0));
    };
    const std::string before = versions();
    conn.exec("UPDATE drover.jobs SET status = 'running', attempt = 1, lease_owner = 'w', started_at = now(), "
              "lease_expires_at = now() + interval '1 minute' WHERE kind = 'by_hand'");
    conn.exec("UPDATE drover.jobs SET status = 'succeeded', finished_at = now(), lease_owner = NULL, "
              "lease_expires_at = NULL WHERE kind = 'by_hand'");
    BOOST_TEST(versions() == before);

    // Deleted one by one (the API's DELETE) and many at once (the prune sweep's shape).
    BOOST_TEST(api.delete_finished(batch[0], "other") == false);  // pending: refused, still listed
    conn.exec("UPDATE drover.jobs SET status = 'cancelled', finished_at = now() WHERE id = " +
              std::to_string(batch[0]));
    BOOST_TEST(api.delete_finished(batch[0], "other"));
    conn.exec("DELETE FROM drover.jobs WHERE kind = 'by_hand' AND id % 2 = 0");
    BOOST_TEST(count("SELECT count(*) FROM drover.job_listing") == 254 - 125);
    BOOST_TEST(drift() == 0);
    BOOST_TEST((listed("other") == std::vector<std::int64_t>{batch[2], batch[1], b}));
    JobFilter all;
    all.limit = 500;
    auto mine = listed("default", all);
    BOOST_TEST(mine.size() == 126u);
    BOOST_TEST(mine.back() == a);

    conn.exec("TRUNCATE drover.jobs CASCADE");
    BOOST_TEST(count("SELECT count(*) FROM drover.job_listing") == 0);
    // Ids start again after RESTART IDENTITY: no stale row may name a new job.
    conn.exec("TRUNCATE drover.jobs RESTART IDENTITY CASCADE");
    std::int64_t again = add("other");
    BOOST_TEST(listed("other") == std::vector<std::int64_t>{again});
    BOOST_TEST(listed("default").empty());
    BOOST_TEST(drift() == 0);
}

BOOST_AUTO_TEST_CASE(a_rolled_back_insert_leaves_no_listing_row) {
    conn.exec("BEGIN");
    add("default");
    conn.exec("ROLLBACK");
    BOOST_TEST(count("SELECT count(*) FROM drover.job_listing") == 0);
}

BOOST_AUTO_TEST_CASE(pages_walk_each_apps_jobs_newest_first_with_filters) {
    // Interleaved apps, kinds and statuses, so a page must skip the others' rows.
    std::vector<std::int64_t> mine, mine_sleep;
    for (int i = 0; i < 120; ++i) {
        add("other");
        const std::string kind = i % 3 == 0 ? "sleep" : "noop";
        std::int64_t id = add("default", kind);
        mine.push_back(id);
        if (kind == "sleep") mine_sleep.push_back(id);
    }
    std::reverse(mine.begin(), mine.end());
    std::reverse(mine_sleep.begin(), mine_sleep.end());

    std::vector<std::int64_t> walked;
    JobFilter page;
    page.limit = 50;
    for (;;) {
        auto ids = listed("default", page);
        walked.insert(walked.end(), ids.begin(), ids.end());
        if (ids.size() < 50) break;
        page.before_id = ids.back();
    }
    BOOST_TEST(walked == mine);

    JobFilter sleeps;
    sleeps.kind = "sleep";
    sleeps.limit = 500;
    BOOST_TEST(listed("default", sleeps) == mine_sleep);
    JobFilter none_running;
    none_running.statuses = {"running"};
    BOOST_TEST(listed("default", none_running).empty());

    auto stats = api.queue_stats("default");
    BOOST_REQUIRE(stats.size() == 1);
    BOOST_TEST(stats[0].pending == 120);
    BOOST_TEST(api.queue_stats("other")[0].pending == 120);
}

BOOST_AUTO_TEST_CASE(a_small_apps_page_reads_its_own_rows_not_the_table) {
    conn.exec("INSERT INTO drover.jobs (app, kind) SELECT 'default', 'noop' FROM generate_series(1, 50000)");
    for (int i = 0; i < 60; ++i) add("other");
    conn.exec("ANALYZE drover.jobs");
    conn.exec("ANALYZE drover.job_listing");
    auto plan = conn.exec(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT j.* FROM drover.job_listing AS l "
        "JOIN drover.jobs AS j ON j.id = l.id AND j.app = l.app WHERE l.app = 'other' "
        "AND l.id < 9223372036854775807 ORDER BY l.id DESC LIMIT 50");
    std::string text(plan.text(0, 0));
    BOOST_TEST(text.find("Seq Scan") == std::string::npos, text);
    BOOST_TEST(listed("other").size() == 50u);
}

BOOST_AUTO_TEST_SUITE_END()
