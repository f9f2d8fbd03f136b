// The storage sweeps against a real database and a real storage folder:
// eviction order and what it spares, artifact retention, upload cleanup after
// the grace period, session expiry, idempotence, a crash between deciding
// and deleting, content stored again while queued, one runner at a time.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/crypto.hpp"
#include "core/store/upload_session_store.hpp"
#include "core/store/upload_store.hpp"
#include "core/sweeps/storage_sweeps.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

namespace {

struct Fixture {
    test::TestDatabase database;
    db::Connection conn = database.connect();
    std::filesystem::path root =
        std::filesystem::temp_directory_path() / ("drover-sweeps-" + crypto::to_hex(crypto::random_bytes(6)));
    storage::BlobStore blobs{root};

    ~Fixture() {
        std::error_code ignored;
        std::filesystem::remove_all(root, ignored);
    }

    // An upload of `size` bytes of distinct content, last used `age_s` seconds ago.
    Upload upload(std::size_t size, int age_s, const std::string& fill = {}) {
        std::string bytes = fill.empty() ? crypto::random_bytes(size) : fill;
        auto u = UploadStore(conn, blobs).store(NewUpload{"default", "application/zip", 1, 1},
                                                storage::sha256_hex(bytes), bytes, 0);
        set_age(u, age_s);
        return u;
    }
    void set_age(const Upload& u, int age_s) {
        auto at = "now() - interval '" + std::to_string(age_s) + " seconds'";
        conn.exec("UPDATE drover.uploads SET last_used_at = " + at + " WHERE id = " + std::to_string(u.id));
        conn.exec("UPDATE drover.blobs SET last_used_at = " + at + " WHERE sha256 = '" + u.sha256 + "'");
    }
    std::int64_t job_with(const Upload& u, const std::string& status) {
        auto id = conn.exec("SELECT (drover.enqueue('noop', '{}')).id").int64(0, 0);
        conn.exec("UPDATE drover.jobs SET upload_id = " + std::to_string(u.id) + " WHERE id = " + std::to_string(id));
        if (status != "pending") {
            conn.exec("UPDATE drover.jobs SET status = '" + status + "', started_at = now(), finished_at = " +
                      (status == "running" ? "NULL" : "now()") + ", attempt = 1" +
                      (status == "running" ? ", lease_expires_at = now() + interval '1 hour', lease_owner = 'w'" : "") +
                      " WHERE id = " + std::to_string(id));
        }
        return id;
    }
    void record_artifact(std::int64_t job, const std::string& name, const std::string& bytes, int retention_s) {
        auto sha = storage::sha256_hex(bytes);
        db::in_transaction(conn, [&] {
            conn.query("uploads/claim_blob", db::Params().add(sha).add(static_cast<std::int64_t>(bytes.size())).null());
            blobs.put(sha, bytes);
            conn.query("artifacts/record", db::Params().add(job).add(1).add(name).add(sha)
                                               .add(static_cast<std::int64_t>(bytes.size()))
                                               .add("application/octet-stream").add(retention_s).null());
        });
    }
    bool exists(const std::string& sha) { return std::filesystem::exists(blobs.path_of(sha)); }
    std::int64_t count(const std::string& sql) { return conn.exec(sql).int64(0, 0); }
    std::string later(int s) { return conn.exec("SELECT (now() + interval '" + std::to_string(s) + " seconds')::text").text(0, 0).data(); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(storage_sweeps_pgtest, Fixture)

BOOST_AUTO_TEST_CASE(evicts_least_recently_used_until_target_sparing_whitelisted_and_in_use) {
    std::vector<Upload> u;
    for (int i = 0; i < 6; ++i) u.push_back(upload(100, 600 - i * 10));  // u[0] the least recently used
    conn.exec("UPDATE drover.uploads SET whitelisted = true WHERE id = " + std::to_string(u[0].id));
    job_with(u[1], "pending");
    // 600 bytes stored; threshold 500, target 300.
    auto c = StorageEviction::run_once(conn, blobs, 500, 300);
    BOOST_TEST(c.ran);
    BOOST_TEST(c.blobs == 3);
    BOOST_TEST(c.files_deleted == 3);
    for (int i : {0, 1, 5}) BOOST_TEST(exists(u[i].sha256), "upload " << i << " kept");
    for (int i : {2, 3, 4}) BOOST_TEST(!exists(u[i].sha256), "upload " << i << " evicted");
    BOOST_TEST(count("SELECT count(*) FROM drover.uploads") == 3);
    BOOST_TEST(count("SELECT sum(size) FROM drover.blobs") == 300);
    BOOST_TEST(count("SELECT count(*) FROM drover.storage_deletions") == 0);
    // Below the threshold: a second run does nothing.
    auto again = StorageEviction::run_once(conn, blobs, 500, 300);
    BOOST_TEST((again.ran && again.records == 0 && again.blobs == 0 && again.files_deleted == 0));
}

BOOST_AUTO_TEST_CASE(a_running_job_keeps_its_upload_and_a_finished_one_does_not) {
    auto running = upload(100, 500);
    auto finished = upload(100, 400);
    job_with(running, "running");
    job_with(finished, "succeeded");
    auto c = StorageEviction::run_once(conn, blobs, 100, 0);
    BOOST_TEST(c.blobs == 1);
    BOOST_TEST(exists(running.sha256));
    BOOST_TEST(!exists(finished.sha256));
}

BOOST_AUTO_TEST_CASE(expires_artifacts_after_their_retention_keeping_content_an_upload_still_names) {
    auto job = conn.exec("SELECT (drover.enqueue('noop', '{}')).id").int64(0, 0);
    auto shared = upload(0, 0, "shared content");
    record_artifact(job, "a.txt", "only an artifact", 60);
    record_artifact(job, "b.txt", "shared content", 60);
    auto early = ArtifactExpiry::run_once(conn, blobs, later(30));
    BOOST_TEST((early.ran && early.records == 0));
    auto c = ArtifactExpiry::run_once(conn, blobs, later(120));
    BOOST_TEST(c.records == 2);
    BOOST_TEST(c.blobs == 1);
    BOOST_TEST(!exists(storage::sha256_hex("only an artifact")));
    BOOST_TEST(exists(shared.sha256));
    BOOST_TEST(count("SELECT count(*) FROM drover.artifacts") == 0);
    auto again = ArtifactExpiry::run_once(conn, blobs, later(120));
    BOOST_TEST((again.records == 0 && again.blobs == 0 && again.files_deleted == 0));
}

BOOST_AUTO_TEST_CASE(removes_uploads_after_the_grace_period_unless_an_unfinished_job_needs_them) {
    auto unused = upload(50, 0);
    auto pending = upload(50, 0);
    auto done = upload(50, 0);
    auto kept = upload(50, 0);
    job_with(pending, "pending");
    job_with(done, "failed");
    conn.exec("UPDATE drover.uploads SET whitelisted = true, protected = true WHERE id = " + std::to_string(kept.id));
    BOOST_TEST(UploadCleanup::run_once(conn, blobs, 3600, later(60)).records == 0);  // within the grace period
    auto c = UploadCleanup::run_once(conn, blobs, 3600, later(7200));
    BOOST_TEST(c.records == 2);
    BOOST_TEST(!exists(unused.sha256));
    BOOST_TEST(!exists(done.sha256));
    BOOST_TEST(exists(pending.sha256));
    BOOST_TEST(exists(kept.sha256));
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE upload_id IS NULL") == 1);  // the failed job's
}

BOOST_AUTO_TEST_CASE(a_crash_between_deciding_and_deleting_is_finished_by_the_next_run) {
    auto u = upload(80, 0);
    // The deciding transaction commits; the process dies before removing the file.
    db::in_transaction(conn, [&] {
        conn.exec("DELETE FROM drover.uploads WHERE id = " + std::to_string(u.id));
        conn.query("sweeps/queue_unreferenced", db::Params().add(std::vector<std::string>{u.sha256}));
    });
    BOOST_TEST(exists(u.sha256));
    BOOST_TEST(count("SELECT count(*) FROM drover.storage_deletions") == 1);
    auto c = ArtifactExpiry::run_once(conn, blobs);  // any sweep works the queue off
    BOOST_TEST(c.files_deleted == 1);
    BOOST_TEST(!exists(u.sha256));
    BOOST_TEST(count("SELECT count(*) FROM drover.storage_deletions") == 0);
}

BOOST_AUTO_TEST_CASE(one_run_drains_a_queue_longer_than_a_round) {
    // 2,345 queued files (more than two rounds of 1,000), one of them named
    // again by a blob row: one run of any sweep removes every other file and
    // leaves the queue empty.
    const int n = 2345;
    std::vector<std::string> shas;
    for (int i = 0; i < n; ++i) {
        auto sha = storage::sha256_hex("queued " + std::to_string(i));
        std::filesystem::create_directories(blobs.path_of(sha).parent_path());
        std::ofstream(blobs.path_of(sha)) << i;
        shas.push_back(sha);
    }
    conn.exec("INSERT INTO drover.storage_deletions (sha256) SELECT unnest(ARRAY['" + [&] {
        std::string list;
        for (const auto& sha : shas) list += (list.empty() ? "" : "','") + sha;
        return list;
    }() + "'])");
    conn.exec("INSERT INTO drover.blobs (sha256, size) VALUES ('" + shas[1500] + "', 4)");
    BOOST_TEST(count("SELECT count(*) FROM drover.storage_deletions") == n);
    auto c = ArtifactExpiry::run_once(conn, blobs);
    BOOST_TEST(c.files_deleted == n - 1);
    BOOST_TEST(count("SELECT count(*) FROM drover.storage_deletions") == 0);
    int left = 0;
    for (const auto& sha : shas) left += exists(sha) ? 1 : 0;
    BOOST_TEST(left == 1);
    BOOST_TEST(exists(shas[1500]));
    BOOST_TEST(ArtifactExpiry::run_once(conn, blobs).files_deleted == 0);
}

BOOST_AUTO_TEST_CASE(content_stored_again_while_queued_keeps_its_file) {
    std::string bytes = "stored twice";
    auto first = upload(0, 0, bytes);
    db::in_transaction(conn, [&] {
        conn.exec("DELETE FROM drover.uploads WHERE id = " + std::to_string(first.id));
        conn.query("sweeps/queue_unreferenced", db::Params().add(std::vector<std::string>{first.sha256}));
    });
    auto second = upload(0, 0, bytes);  // the same content, before the queue is worked off
    BOOST_TEST(DeletionQueue::work_off(conn, blobs) == 0);
    BOOST_TEST(exists(second.sha256));
    BOOST_TEST(count("SELECT count(*) FROM drover.blobs") == 1);
    BOOST_TEST(count("SELECT count(*) FROM drover.storage_deletions") == 0);
}

BOOST_AUTO_TEST_CASE(content_stored_again_while_the_queue_waits_for_its_lock_keeps_its_file) {
    // The queue asks whether a blob row names the content only once it holds
    // the content's lock, in a statement of its own: a row committed while it
    // waited (an upload storing the same bytes) is seen, and the file stays.
    std::string bytes = "stored again while the queue waits";
    auto first = upload(0, 0, bytes);
    db::in_transaction(conn, [&] {
        conn.exec("DELETE FROM drover.uploads WHERE id = " + std::to_string(first.id));
        conn.query("sweeps/queue_unreferenced", db::Params().add(std::vector<std::string>{first.sha256}));
    });
    auto storing = database.connect();
    auto watcher = database.connect();
    storing.exec("BEGIN");
    storing.exec("SELECT pg_advisory_xact_lock(1685221238, hashtext('" + first.sha256 + "'))");
    std::int64_t removed = -1;
    std::string failed;
    std::thread queue([&] {
        try {
            removed = DeletionQueue::drain(conn, blobs);
        } catch (const std::exception& e) {
            failed = e.what();
        }
    });
    bool waiting = false;
    for (int i = 0; i < 200 && !waiting; ++i) {
        waiting = watcher.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND query LIKE '%pg_advisory_xact_lock(1685221238%' AND pid <> pg_backend_pid()")
                      .int64(0, 0) == 1;
        if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    storing.exec("INSERT INTO drover.blobs (sha256, size) VALUES ('" + first.sha256 + "', " +
                 std::to_string(bytes.size()) + ")");
    storing.exec("COMMIT");
    queue.join();
    BOOST_TEST(failed == "");
    BOOST_TEST(waiting);
    BOOST_TEST(removed == 0);
    BOOST_TEST(exists(first.sha256));
    BOOST_TEST(count("SELECT count(*) FROM drover.storage_deletions") == 0);
}

BOOST_AUTO_TEST_CASE(expires_upload_sessions_and_their_parts) {
    UploadSessionStore sessions(conn, blobs);
    auto s = sessions.create("default", 60);
    BOOST_TEST_REQUIRE(sessions.put_part(s.id, "default", 1, "part one", "", 1000).has_value());
    BOOST_TEST(std::filesystem::exists(sessions.folder(s.id) / "data"));  // the part, in place
    BOOST_TEST(SessionExpiry::run_once(conn, blobs, later(30)).records == 0);
    auto c = SessionExpiry::run_once(conn, blobs, later(120));
    BOOST_TEST(c.records == 1);
    BOOST_TEST(!std::filesystem::exists(sessions.folder(s.id)));
    BOOST_TEST(count("SELECT count(*) FROM drover.upload_parts") == 0);
}

BOOST_AUTO_TEST_CASE(a_second_sweeper_does_not_run_while_one_holds_the_lock) {
    auto other = database.connect();
    other.exec("BEGIN");
    other.exec("SELECT pg_advisory_xact_lock(1685221239, 1)");  // the artifact sweep's key
    auto c = ArtifactExpiry::run_once(conn, blobs);
    BOOST_TEST(!c.ran);
    other.exec("COMMIT");
    BOOST_TEST(ArtifactExpiry::run_once(conn, blobs).ran);
}

BOOST_AUTO_TEST_CASE(prunes_finished_jobs_after_their_retention_with_logs_and_artifacts) {
    auto old_job = conn.exec("SELECT (drover.enqueue('noop', '{}')).id").int64(0, 0);
    auto recent = conn.exec("SELECT (drover.enqueue('noop', '{}')).id").int64(0, 0);
    auto pending = conn.exec("SELECT (drover.enqueue('noop', '{}')).id").int64(0, 0);
    for (auto [id, age] : {std::pair{old_job, 10}, std::pair{recent, 1}}) {
        conn.exec("UPDATE drover.jobs SET status = 'succeeded', attempt = 1, started_at = now() - interval '" +
                  std::to_string(age) + " days', finished_at = now() - interval '" + std::to_string(age) +
                  " days' WHERE id = " + std::to_string(id));
        conn.exec("INSERT INTO drover.job_logs (job_id, attempt, stream, at, line) VALUES (" + std::to_string(id) +
                  ", 1, 'stdout', now(), 'a line')");
        record_artifact(id, "out.txt", "output of " + std::to_string(id), 86400 * 30);
    }
    auto c = JobPruner::run_once(conn, blobs, 7 * 86400);
    BOOST_TEST(c.records == 1);
    BOOST_TEST(c.blobs == 1);
    BOOST_TEST(c.files_deleted == 1);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id = " + std::to_string(old_job)) == 0);
    BOOST_TEST(count("SELECT count(*) FROM drover.job_logs WHERE job_id = " + std::to_string(old_job)) == 0);
    BOOST_TEST(count("SELECT count(*) FROM drover.artifacts") == 1);
    BOOST_TEST(!exists(storage::sha256_hex("output of " + std::to_string(old_job))));
    BOOST_TEST(exists(storage::sha256_hex("output of " + std::to_string(recent))));
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id IN (" + std::to_string(recent) + ", " +
                     std::to_string(pending) + ")") == 2);
    BOOST_TEST(JobPruner::run_once(conn, blobs, 7 * 86400).records == 0);
}

BOOST_AUTO_TEST_CASE(reconciles_files_without_rows_rows_without_files_and_unnamed_blobs) {
    auto two_hours_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(2);
    // A file no row names (a crash between rename and commit), old; and a young one (maybe still committing).
    std::string stray = "stray content", young = "young content";
    blobs.put(storage::sha256_hex(stray), stray);
    std::filesystem::last_write_time(blobs.path_of(storage::sha256_hex(stray)), two_hours_ago);
    blobs.put(storage::sha256_hex(young), young);
    // A row whose file vanished from disk.
    auto lost = upload(30, 0);
    std::filesystem::remove(blobs.path_of(lost.sha256));
    // A blob row nothing names any more, and an old temp file.
    auto unnamed = upload(40, 0);
    conn.exec("DELETE FROM drover.uploads WHERE id = " + std::to_string(unnamed.id));
    conn.exec("UPDATE drover.blobs SET created_at = now() - interval '2 hours' WHERE sha256 = '" + unnamed.sha256 + "'");
    auto temp = blobs.temp_dir() / "part.leftover";
    std::ofstream(temp) << "x";
    std::filesystem::last_write_time(temp, two_hours_ago);
    auto kept = upload(50, 0);

    auto dry = Reconciler::run_once(conn, blobs, 3600, true);
    BOOST_TEST(dry.records == 1);
    BOOST_TEST(exists(storage::sha256_hex(stray)));
    BOOST_TEST(count("SELECT count(*) FROM drover.uploads WHERE id = " + std::to_string(lost.id)) == 1);

    auto c = Reconciler::run_once(conn, blobs, 3600);
    BOOST_TEST(c.records == 1);  // the upload whose file was lost
    BOOST_TEST(c.blobs == 1);    // the unnamed blob row
    BOOST_TEST(!exists(storage::sha256_hex(stray)));
    BOOST_TEST(exists(storage::sha256_hex(young)));
    BOOST_TEST(!exists(unnamed.sha256));
    BOOST_TEST(!std::filesystem::exists(temp));
    BOOST_TEST(exists(kept.sha256));
    BOOST_TEST(count("SELECT count(*) FROM drover.uploads") == 1);
    BOOST_TEST(count("SELECT count(*) FROM drover.blobs") == 1);
    auto again = Reconciler::run_once(conn, blobs, 3600);
    BOOST_TEST((again.records == 0 && again.blobs == 0 && again.files_deleted == 0));
}

BOOST_AUTO_TEST_SUITE_END()
