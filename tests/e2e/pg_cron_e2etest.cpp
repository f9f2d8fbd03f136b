// The SQL half of the storage sweeps scheduled from inside Postgres with
// pg_cron (docs/storage.md, "From pg_cron"): a cluster of the test's own with
// pg_cron preloaded runs drover.sweep_decide('uploads') and ('sessions')
// every minute; the test sees the runs in cron.job_run_details and their
// effect in the tables; the files they queued are removed by the next
// `drover sweep`. pg_cron 1.4 (Debian 12) schedules by the minute: the first
// run comes within 60 s.
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "core/crypto.hpp"
#include "core/store/upload_store.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/private_postgres.hpp"
#include "tests/support/process.hpp"

using namespace drover;
using namespace std::chrono_literals;
using drover::e2e::scalar;

BOOST_AUTO_TEST_SUITE(pg_cron_e2etest)

BOOST_AUTO_TEST_CASE(pg_cron_runs_the_sql_sweeps_and_drover_sweep_removes_the_queued_files) {
    if (!std::filesystem::exists("/usr/share/postgresql/15/extension/pg_cron.control")) {
        BOOST_FAIL("pg_cron is not installed (postgresql-15-cron; scripts/lib/common.sh ensure_deps installs it)");
    }
    test::PrivatePostgres pg;
    // pg_cron's settings are known only once it is loaded: preload it, restart, then set them and restart.
    db::Connection(pg.url(), "drover-test").exec("ALTER SYSTEM SET shared_preload_libraries = 'pg_cron'");
    pg.stop();
    pg.start();
    {
        db::Connection admin(pg.url(), "drover-test");
        admin.exec("ALTER SYSTEM SET cron.database_name = 'drover'");
        // Jobs run in background workers: no login over TCP (which needs the password) for them.
        admin.exec("ALTER SYSTEM SET cron.use_background_workers = on");
        admin.exec("ALTER SYSTEM SET max_worker_processes = 20");
    }
    pg.stop();
    pg.start();
    db::Connection conn(pg.url(), "drover-test");
    conn.exec("CREATE EXTENSION pg_cron");

    e2e::TempDir dir;
    auto root = dir.path() / "storage";
    storage::BlobStore blobs(root);
    std::string bytes = crypto::random_bytes(4096);
    auto old = UploadStore(conn, blobs).store(NewUpload{"default", "application/zip", 1, 1},
                                              storage::sha256_hex(bytes), bytes, 0);
    std::string fresh_bytes = crypto::random_bytes(10);
    auto fresh = UploadStore(conn, blobs).store(NewUpload{"default", "application/zip", 1, 1},
                                                storage::sha256_hex(fresh_bytes), fresh_bytes, 0);
    conn.exec("UPDATE drover.uploads SET last_used_at = now() - interval '2 days' WHERE id = " + std::to_string(old.id));
    auto session = scalar(conn, "INSERT INTO drover.upload_sessions (app, created_at, expires_at) "
                                "VALUES ('default', now() - interval '2 hours', now() - interval '1 hour') RETURNING id");
    auto parts = root / "sessions" / std::to_string(session);
    std::filesystem::create_directories(parts);
    std::ofstream(parts / "1") << "part";

    conn.exec("SELECT cron.schedule('drover-uploads', '* * * * *', "
              "$$SELECT drover.sweep_decide('uploads', 1000, 3600)$$)");
    conn.exec("SELECT cron.schedule('drover-sessions', '* * * * *', $$SELECT drover.sweep_decide('sessions')$$)");
    bool ran = e2e::poll_until(
        [&] {
            return scalar(conn, "SELECT count(DISTINCT jobid) FROM cron.job_run_details "
                                "WHERE status = 'succeeded'") == 2;
        },
        100s, 500ms);
    BOOST_TEST_REQUIRE(ran, e2e::text_value(conn, "SELECT coalesce(string_agg(status || ': ' || return_message, "
                                                  "E'\\n'), 'no runs') FROM cron.job_run_details"));
    // Decided in SQL: the old upload and its blob row gone, its file queued, the fresh one kept.
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.uploads") == 1);
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.uploads WHERE id = " + std::to_string(fresh.id)) == 1);
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.storage_deletions WHERE sha256 = '" + old.sha256 + "'") == 1);
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.upload_sessions") == 0);
    BOOST_TEST(std::filesystem::exists(blobs.path_of(old.sha256)));
    // The same function by hand: another run finds nothing more.
    BOOST_TEST(e2e::text_value(conn, "SELECT drover.sweep_decide('uploads', 1000, 3600)::text") ==
               R"({"ran": true, "blobs": 0, "records": 0})");
    BOOST_CHECK_THROW(conn.exec("SELECT drover.sweep_decide('eviction')"), DbError);
    conn.exec("SELECT cron.unschedule('drover-uploads')");
    conn.exec("SELECT cron.unschedule('drover-sessions')");

    // The file work: the next drover sweep removes the queued file and the session's parts.
    test::Process sweep(test::binary_path("drover"), {"sweep", "sessions"},
                        {{"DROVER_DATABASE_URL", pg.url()}, {"DROVER_STORAGE_DIR", root.string()},
                         {"DROVER_LOG_LEVEL", "warn"}});
    BOOST_TEST_REQUIRE(sweep.wait_exit(30s).value_or(-1) == 0, sweep.output());
    BOOST_TEST(!std::filesystem::exists(blobs.path_of(old.sha256)));
    BOOST_TEST(std::filesystem::exists(blobs.path_of(fresh.sha256)));
    BOOST_TEST(!std::filesystem::exists(parts));
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.storage_deletions") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
