// kill -9 between decide and delete, for real: a `drover sweep` process has
// committed its decision (records and blob rows gone, files queued in
// drover.storage_deletions) and is about to remove the files when it is
// killed. The test holds the content lock the deletion step takes
// (sweeps/lock_contents), so the process is caught exactly there, waiting;
// pg_stat_activity shows it. A second run finishes the job and storage is
// consistent: the files are gone, the queue is empty, reconcile finds nothing.
#include <boost/test/unit_test.hpp>

#include <csignal>

#include "core/crypto.hpp"
#include "core/store/upload_store.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;
using namespace std::chrono_literals;
using drover::e2e::scalar;

BOOST_AUTO_TEST_SUITE(sweep_kill_e2etest)

BOOST_AUTO_TEST_CASE(a_sweep_killed_after_deciding_and_before_deleting_is_finished_by_the_next_run) {
    test::TestDatabase database;
    e2e::TempDir dir;
    auto conn = database.connect();
    auto root = dir.path() / "storage";
    storage::BlobStore blobs(root);
    std::vector<std::string> shas;
    for (int i = 0; i < 3; ++i) {
        std::string bytes = crypto::random_bytes(1000 + i);
        shas.push_back(UploadStore(conn, blobs)
                           .store(NewUpload{"default", "application/zip", 1, 1}, storage::sha256_hex(bytes), bytes, 0)
                           .sha256);
    }
    conn.exec("UPDATE drover.uploads SET last_used_at = now() - interval '2 days'");
    std::map<std::string, std::string> env = {{"DROVER_DATABASE_URL", database.url()},
                                              {"DROVER_STORAGE_DIR", root.string()},
                                              {"DROVER_UPLOAD_GRACE_S", "3600"},
                                              {"DROVER_LOG_LEVEL", "warn"}};

    // Hold every file's content lock: the sweep's deletion step waits on the first it tries.
    auto holder = database.connect();
    for (const auto& sha : shas) holder.exec("SELECT pg_advisory_lock(1685221238, hashtext('" + sha + "'))");
    test::Process sweep(test::binary_path("drover"), {"sweep", "uploads"}, env);
    bool waiting = e2e::poll_until(
        [&] {
            return scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'drover-sweep' "
                                "AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock(1685221238%'") == 1;
        },
        20s);
    BOOST_TEST_REQUIRE(waiting, sweep.output());
    // Decided and committed: the records and blob rows are gone, the files are queued and still there.
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.uploads") == 0);
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.blobs") == 0);
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.storage_deletions") == 3);
    for (const auto& sha : shas) BOOST_TEST(std::filesystem::exists(blobs.path_of(sha)));

    sweep.signal(SIGKILL);
    BOOST_TEST(sweep.wait_exit(10s).value_or(-1) == 128 + SIGKILL);
    holder.exec("SELECT pg_advisory_unlock_all()");
    // The server notices the dead client and ends its session (its transaction rolls back).
    BOOST_TEST(e2e::poll_until(
        [&] { return scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'drover-sweep'") == 0; },
        10s));
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.storage_deletions") >= 1);

    // The next run of any sweep works the queue off.
    test::Process again(test::binary_path("drover"), {"sweep", "sessions"}, env);
    BOOST_TEST_REQUIRE(again.wait_exit(30s).value_or(-1) == 0, again.output());
    auto summary = e2e::parse_json(again.output());
    BOOST_TEST_REQUIRE(summary.IsObject(), again.output());
    BOOST_TEST(summary["sweeps"]["sessions"]["files_deleted"].GetInt64() >= 1);
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.storage_deletions") == 0);
    for (const auto& sha : shas) BOOST_TEST(!std::filesystem::exists(blobs.path_of(sha)));

    // Consistent: reconcile finds nothing to do.
    test::Process reconcile(test::binary_path("drover"), {"sweep", "reconcile"}, env);
    BOOST_TEST_REQUIRE(reconcile.wait_exit(30s).value_or(-1) == 0, reconcile.output());
    auto r = e2e::parse_json(reconcile.output());
    BOOST_TEST_REQUIRE(r.IsObject(), reconcile.output());
    BOOST_TEST(r["sweeps"]["reconcile"]["records"].GetInt64() == 0, reconcile.output());
    BOOST_TEST(r["sweeps"]["reconcile"]["blobs"].GetInt64() == 0, reconcile.output());
    BOOST_TEST(r["sweeps"]["reconcile"]["files_deleted"].GetInt64() == 0, reconcile.output());
}

BOOST_AUTO_TEST_SUITE_END()
