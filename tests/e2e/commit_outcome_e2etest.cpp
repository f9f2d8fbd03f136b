// A connection lost around the COMMIT of POST /v1/jobs: the answer must match
// what the database holds. During a Postgres outage a client once got
// `503 database_unavailable` for a job that had committed and later ran, and
// a client that retried as told made a duplicate.
//
// The loss is made exact, not timed: a commit that waits for a synchronous
// standby that does not exist is already durable locally when its backend is
// terminated (or the server stopped); a deferred trigger that sleeps inside
// COMMIT is not, and terminating its backend aborts the transaction.
// The API runs on a private cluster, where the stack's test keys do not
// exist: DROVER_AUTH=off (the app `default`), authentication is not the point.
#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/private_postgres.hpp"
#include "tests/support/wait.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

std::int64_t count(db::Connection& conn, const std::string& where = "true") {
    return conn.exec("SELECT count(*) FROM drover.jobs WHERE " + where).int64(0, 0);
}

// The pid of drover-api's backend waiting on `wait_event`, once there is one.
std::optional<std::int64_t> api_backend_waiting(db::Connection& conn, const std::string& wait_event) {
    std::optional<std::int64_t> pid;
    test::wait_until(
        [&] {
            auto r = conn.exec("SELECT pid FROM pg_stat_activity WHERE application_name = 'drover-api' AND wait_event = $1",
                               db::Params().add(wait_event));
            if (r.rows() == 0) return false;
            pid = r.int64(0, 0);
            return true;
        },
        10s);
    return pid;
}

test::HttpResponse post_with_key(int port, const std::string& key, const std::string& body) {
    return test::http_raw(port, e2e::request_bytes("POST", "/v1/jobs", body, "Idempotency-Key: " + key + "\r\n"), 30000);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(commit_outcome_e2etest)

BOOST_AUTO_TEST_CASE(a_job_committed_before_the_server_stopped_is_answered_202) {
    test::PrivatePostgres pg;
    {
        db::Connection admin(pg.url());
        // New sessions of drover (the API's) wait for a standby named "nobody".
        admin.exec("ALTER DATABASE drover SET synchronous_commit = on");
        admin.exec("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
        admin.exec("SELECT pg_reload_conf()");
    }
    test::DroverStack stack;
    stack.start_api({{"DROVER_AUTH", "off"}, {"DROVER_DATABASE_URL", pg.url()}});
    const std::string body = R"({"kind": "noop", "args": {}})";
    auto answer = std::async(std::launch::async, [&] { return post_with_key(stack.port(), "k1", body); });
    {
        db::Connection watch(pg.url());
        BOOST_REQUIRE_MESSAGE(api_backend_waiting(watch, "SyncRep"), "the insert never reached COMMIT");
    }
    // The commit is durable locally; the server goes away before answering it.
    pg.stop();
    std::this_thread::sleep_for(1s);
    pg.start();
    auto r = answer.get();
    db::Connection conn(pg.url());
    BOOST_TEST(r.status == 202, "body: " << r.body << "\n" << stack.output());
    BOOST_TEST(count(conn) == 1);
    BOOST_TEST(test::json_field(r.body, "id") == std::to_string(e2e::scalar(conn, "SELECT id FROM drover.jobs")));
    // A retry with the same key gets the same job, not a second one.
    auto retry = post_with_key(stack.port(), "k1", body);
    BOOST_TEST(retry.status == 202);
    BOOST_TEST(test::json_field(retry.body, "id") == test::json_field(r.body, "id"));
    BOOST_TEST(count(conn) == 1);
}

BOOST_AUTO_TEST_CASE(a_job_whose_commit_was_aborted_is_answered_503_and_a_retry_stores_one) {
    test::PrivatePostgres pg;
    {
        db::Connection admin(pg.url());
        admin.exec(R"(CREATE FUNCTION public.slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                      BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$)");
        admin.exec(R"(CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON drover.jobs
                      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.slow_commit())");
    }
    test::DroverStack stack;
    stack.start_api({{"DROVER_AUTH", "off"}, {"DROVER_DATABASE_URL", pg.url()}});
    const std::string body = R"({"kind": "noop"})";
    auto answer = std::async(std::launch::async, [&] { return post_with_key(stack.port(), "k2", body); });
    db::Connection conn(pg.url());
    auto pid = api_backend_waiting(conn, "PgSleep");
    BOOST_REQUIRE_MESSAGE(pid, "the insert never reached COMMIT");
    conn.exec("SELECT pg_terminate_backend($1::integer)", db::Params().add(*pid));
    auto r = answer.get();
    BOOST_TEST(r.status == 503, "body: " << r.body);
    BOOST_TEST(e2e::error_member(r.body, "code") == "database_unavailable");
    BOOST_TEST(!r.headers["retry-after"].empty());
    BOOST_TEST(count(conn) == 0);
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.idempotency_keys") == 0);

    // Retrying as told stores exactly one job.
    conn.exec("DROP TRIGGER slow_commit ON drover.jobs");
    auto retry = post_with_key(stack.port(), "k2", body);
    BOOST_TEST(retry.status == 202, "body: " << retry.body);
    BOOST_TEST(count(conn) == 1);
}

// The database stays away longer than DROVER_COMMIT_CHECK_MS: the API does
// not guess. It says it cannot tell, and where to look.
BOOST_AUTO_TEST_CASE(a_commit_the_database_cannot_vouch_for_yet_is_answered_commit_unknown) {
    test::PrivatePostgres pg;
    {
        db::Connection admin(pg.url());
        admin.exec("ALTER DATABASE drover SET synchronous_commit = on");
        admin.exec("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
        admin.exec("SELECT pg_reload_conf()");
    }
    test::DroverStack stack;
    stack.start_api({{"DROVER_AUTH", "off"}, {"DROVER_DATABASE_URL", pg.url()}, {"DROVER_COMMIT_CHECK_MS", "1000"}});
    auto answer = std::async(std::launch::async, [&] { return post_with_key(stack.port(), "k3", R"({"kind": "noop"})"); });
    {
        db::Connection watch(pg.url());
        BOOST_REQUIRE_MESSAGE(api_backend_waiting(watch, "SyncRep"), "the insert never reached COMMIT");
    }
    pg.stop();
    auto r = answer.get();
    BOOST_TEST(r.status == 503, "body: " << r.body);
    BOOST_TEST(e2e::error_member(r.body, "code") == "commit_unknown");
    BOOST_TEST(!r.headers["retry-after"].empty());
    BOOST_REQUIRE(!r.headers["location"].empty());
    pg.start();
    // It had committed: the Location says so, and a retry with the key finds it.
    auto fetched = test::wait_until([&] { return test::http_request(stack.port(), "GET", r.headers["location"]).status == 200; },
                                    std::chrono::seconds(20));
    BOOST_TEST(fetched);
    auto retry = post_with_key(stack.port(), "k3", R"({"kind": "noop"})");
    BOOST_TEST(retry.status == 202);
    BOOST_TEST("/v1/jobs/" + test::json_field(retry.body, "id") == r.headers["location"]);
    db::Connection conn(pg.url());
    BOOST_TEST(count(conn) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
