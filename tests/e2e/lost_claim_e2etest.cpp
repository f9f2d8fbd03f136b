// A claim lost while its job runs (its lease expired and was rescued, or the
// claim — committed asynchronously — did not survive a database crash): the
// job may run again with the same attempt number, and its record must show
// the run that lost its claim.
#include <boost/test/unit_test.hpp>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    e2e::TempDir marks;
    test::DroverStack stack{e2e::kinds_file({
        // Leaves a mark when it starts, then takes a moment.
        e2e::CommandKind("marked", R"(touch "$MARKS/started-$DROVER_JOB_ID-$$"; sleep 1.5; echo done)")
            .with_env("MARKS", marks.str()),
    })};
    db::Connection conn = stack.database().connect();
    Fixture() { stack.start_api(); }

    std::string status(const std::string& id) {
        return e2e::text_value(conn, "SELECT status::text FROM drover.jobs WHERE id = " + id);
    }
    int starts() {
        int n = 0;
        for (const auto& e : std::filesystem::directory_iterator(marks.path())) n += e.path().filename().string().starts_with("started-");
        return n;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(lost_claim_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(a_run_whose_claim_was_lost_is_in_the_jobs_log) {
    stack.start_worker();
    auto r = stack.post_job(R"({"kind": "marked"})");
    BOOST_REQUIRE_MESSAGE(r.status == 202, r.body);
    auto id = test::json_field(r.body, "id");
    BOOST_REQUIRE(e2e::poll_until([&] { return starts() == 1; }, 10s, 20ms));
    // What a server crash does to a claim that had not reached the disk: the
    // row is as it was before it (pending, the attempt not counted).
    conn.exec("UPDATE drover.jobs SET status = 'pending', attempt = attempt - 1, lease_owner = NULL, "
              "lease_expires_at = NULL, started_at = NULL WHERE id = " + id);
    BOOST_REQUIRE_MESSAGE(e2e::poll_until([&] { return status(id) == "succeeded"; }, 20s),
                          "status " << status(id) << "\n" << stack.output());
    BOOST_TEST(e2e::poll_until([&] { return starts() == 2; }, 5s));  // at least once: it ran again
    BOOST_TEST(e2e::scalar(conn, "SELECT attempt FROM drover.jobs WHERE id = " + id) == 1);
    // The first run's ending was not recorded (it no longer held the job),
    // but the log says it happened.
    BOOST_REQUIRE_MESSAGE(e2e::poll_until(
                              [&] {
                                  return e2e::scalar(conn, "SELECT count(*) FROM drover.job_logs WHERE job_id = " + id +
                                                               " AND line LIKE '[drover] attempt 1 ran on worker %'") == 1;
                              },
                              10s),
                          stack.output());
    BOOST_TEST(e2e::text_value(conn, "SELECT line FROM drover.job_logs WHERE job_id = " + id +
                                         " AND line LIKE '[drover] attempt 1 ran%'")
                   .find("unrecorded") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
