// Workers killed mid-job and a database restarted under running workers:
// every job still ends succeeded exactly once in the record, and executions
// (counted through a side effect, a line per run in a file) cover every job.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include "core/db/connection.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/private_postgres.hpp"
#include "tests/support/wait.hpp"

using namespace drover;

namespace {

// A command kind that records each execution, then works a little.
// The record's folder is shared with the jobs' sandboxes (and theirs to write in).
std::string recording_kinds(const std::filesystem::path& record, const char* work = "sleep 0.1") {
    std::filesystem::permissions(record.parent_path(), std::filesystem::perms::all);
    return R"({"kinds": {"record": {"command": ["/bin/sh", "-c", "echo $DROVER_JOB_ID >> )" + record.string() +
           "; " + work + R"("], "max_attempts": 5, "bind": {")" + record.parent_path().string() + R"(": "rw"}}}})";
}

struct Executions {
    std::size_t total = 0;
    std::set<std::string> distinct;
};

Executions read_executions(const std::filesystem::path& record) {
    Executions e;
    std::ifstream in(record);
    std::string line;
    while (std::getline(in, line)) {
        ++e.total;
        e.distinct.insert(line);
    }
    return e;
}

std::int64_t count(db::Connection& conn, const std::string& where) {
    return conn.exec("SELECT count(*) FROM drover.jobs WHERE " + where).int64(0, 0);
}

void insert_jobs(db::Connection& conn, int n) {
    conn.exec("INSERT INTO drover.jobs (kind, max_attempts) SELECT 'record', 5 FROM generate_series(1, " +
              std::to_string(n) + ")");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resilience_e2etest)

BOOST_AUTO_TEST_CASE(a_worker_killed_mid_job_loses_no_job) {
    auto record = std::filesystem::temp_directory_path() / ("drover-record-" + std::to_string(getpid())) / "record";
    std::filesystem::create_directories(record.parent_path());
    std::filesystem::remove(record);
    test::DroverStack stack(recording_kinds(record));
    auto conn = stack.database().connect();
    insert_jobs(conn, 150);
    std::map<std::string, std::string> env = {
        {"DROVER_CONCURRENCY", "4"}, {"DROVER_LEASE_S", "3"}, {"DROVER_RESCUE_INTERVAL_MS", "300"}};
    stack.start_worker(env);
    stack.start_worker(env);
    BOOST_REQUIRE(test::wait_until([&] { return count(conn, "status = 'succeeded'") >= 30; }));
    BOOST_REQUIRE(count(conn, "status = 'running' AND lease_owner IS NOT NULL") > 0);
    stack.workers()[0]->signal(SIGKILL);
    stack.workers()[0]->wait_exit(std::chrono::seconds(5));
    stack.start_worker(env);

    bool drained = test::wait_until([&] { return count(conn, "status = 'succeeded'") == 150; }, std::chrono::seconds(60));
    BOOST_TEST_REQUIRE(drained, stack.output());
    BOOST_TEST(count(conn, "status <> 'succeeded'") == 0);
    // The killed worker's jobs came back through the lease rescue.
    BOOST_TEST(count(conn, "attempt >= 2 AND last_error LIKE 'lease expired%'") >= 1);
    auto runs = read_executions(record);
    BOOST_TEST(runs.distinct.size() == 150u);
    BOOST_TEST(runs.total >= 150u);
    std::filesystem::remove_all(record.parent_path());
}

BOOST_AUTO_TEST_CASE(workers_ride_out_a_database_restart) {
    auto record = std::filesystem::temp_directory_path() / ("drover-record-pg-" + std::to_string(getpid())) / "record";
    std::filesystem::create_directories(record.parent_path());
    std::filesystem::remove(record);
    test::PrivatePostgres pg;
    test::DroverStack stack(recording_kinds(record, "sleep 0.05"));  // for its kinds file and state folder
    std::map<std::string, std::string> env = {{"DROVER_DATABASE_URL", pg.url()},
                                              {"DROVER_CONCURRENCY", "4"},
                                              {"DROVER_LEASE_S", "3"},
                                              {"DROVER_RESCUE_INTERVAL_MS", "300"}};
    {
        db::Connection conn(pg.url());
        insert_jobs(conn, 200);
    }
    stack.start_worker(env);
    stack.start_worker(env);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    pg.stop();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    pg.start();
    // Work that arrives after the restart must wake them too (they LISTEN again).
    db::Connection conn(pg.url());
    insert_jobs(conn, 100);

    bool drained = test::wait_until([&] { return count(conn, "status = 'succeeded'") == 300; }, std::chrono::seconds(60));
    BOOST_TEST_REQUIRE(drained, stack.output());
    BOOST_TEST(count(conn, "status <> 'succeeded'") == 0);
    for (auto& w : stack.workers()) BOOST_TEST(w->running(), "a worker exited:\n" << stack.output());
    // The restart really reached them: their listeners lost the connection.
    BOOST_TEST(stack.output().find("listener:") != std::string::npos, stack.output());
    auto runs = read_executions(record);
    BOOST_TEST(runs.distinct.size() == 300u);
    BOOST_TEST(runs.total >= 300u);
    std::filesystem::remove_all(record.parent_path());
}

BOOST_AUTO_TEST_SUITE_END()
