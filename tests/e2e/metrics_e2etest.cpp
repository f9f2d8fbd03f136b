// GET /metrics after real traffic: `promtool check metrics` (Debian package
// prometheus, installed by scripts/lib/common.sh ensure_deps) accepts the
// exposition, and it holds what issue 8 lists: requests by route and status
// with latency histograms, jobs by status and queue, the start-delay
// histogram, and the database pool's use and waits.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

struct Checked {
    int exit_code = -1;
    std::string output;
};

// Runs promtool on the exposition; its findings come on stdout/stderr.
Checked promtool_check(const std::filesystem::path& dir, const std::string& exposition) {
    auto file = dir / "metrics.txt";
    std::ofstream(file) << exposition;
    std::string command = "promtool check metrics < '" + file.string() + "' 2>&1";
    Checked c;
    FILE* p = popen(command.c_str(), "r");
    if (!p) return c;
    char buf[4096];
    while (auto n = fread(buf, 1, sizeof buf, p)) c.output.append(buf, n);
    int status = pclose(p);
    c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return c;
}

bool has_line(const std::string& body, const std::string& pattern) {
    return std::regex_search(body, std::regex(pattern, std::regex::multiline));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_e2etest)

BOOST_AUTO_TEST_CASE(promtool_accepts_metrics_after_traffic_and_they_cover_the_issue_list) {
    BOOST_REQUIRE_MESSAGE(std::system("command -v promtool > /dev/null") == 0,
                          "promtool is missing: run scripts/test (ensure_deps installs the prometheus package)");
    test::DroverStack stack;
    stack.start_api();
    stack.start_worker({{"DROVER_QUEUES", "default,second"}});
    // Traffic: jobs that run (two queues), a job that waits, reads, and a few errors.
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) {
        auto r = stack.post_job(i % 2 ? R"({"kind": "noop", "queue": "second"})" : R"({"kind": "noop"})");
        BOOST_REQUIRE_EQUAL(r.status, 202);
        ids.push_back(test::json_field(r.body, "id"));
    }
    BOOST_REQUIRE_EQUAL(stack.post_job(R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})").status, 202);
    for (const auto& id : ids) BOOST_TEST(test::json_field(stack.wait_finished(id), "status") == "succeeded");
    BOOST_TEST(stack.get_job(ids[0]).status == 200);
    BOOST_TEST(stack.get_job("987654321").status == 404);
    BOOST_TEST(test::http_request_as("", stack.port(), "GET", "/v1/jobs").status == 401);
    BOOST_TEST(stack.post_job("{").status == 400);
    // Refused by the guard before routing: counted too.
    BOOST_TEST(test::http_raw(stack.port(), "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n")
                   .status == 431);

    auto r = test::http_request_as(test::default_operator_key, stack.admin_port(), "GET", "/metrics");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.headers["content-type"].starts_with("text/plain; version=0.0.4"));
    auto checked = promtool_check(stack.dir(), r.body);
    BOOST_TEST(checked.exit_code == 0, "promtool: " << checked.output << "\n" << r.body);
    BOOST_TEST(checked.output.empty(), "promtool's lint findings: " << checked.output);

    // Requests by route and status, and latency histograms per route.
    BOOST_TEST(has_line(r.body, R"(^drover_http_requests_total\{route="POST /v1/jobs",status="202"\} 7$)"), r.body);
    BOOST_TEST(has_line(r.body, R"(^drover_http_requests_total\{route="POST /v1/jobs",status="400"\} 1$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_http_requests_total\{route="GET /v1/jobs/:id",status="404"\} 1$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_http_requests_total\{route="GET /v1/jobs",status="401"\} 1$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_http_requests_total\{route="unmatched",status="431"\} 1$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_http_request_duration_seconds_bucket\{route="POST /v1/jobs",le="\+Inf"\} 8$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_http_request_duration_seconds_count\{route="POST /v1/jobs"\} 8$)"));
    // Jobs by queue and status.
    BOOST_TEST(has_line(r.body, R"(^drover_jobs\{queue="default",status="succeeded"\} 3$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_jobs\{queue="second",status="succeeded"\} 3$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_jobs\{queue="default",status="pending"\} 1$)"));
    // The six jobs that started are in the start-delay histogram, the far one is not.
    BOOST_TEST(has_line(r.body, R"(^drover_job_start_delay_seconds_bucket\{le="\+Inf"\} 6$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_job_start_delay_seconds_count 6$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_job_start_delay_seconds_bucket\{le="300"\} 6$)"));
    // The pool: use, waits (every query went through the queue), refusals.
    BOOST_TEST(has_line(r.body, R"(^drover_api_db_connections \d+$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_api_db_busy \d+$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_api_db_queued 0$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_api_db_rejected_total 0$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_api_db_wait_seconds_count [1-9]\d*$)"));
    BOOST_TEST(has_line(r.body, R"(^drover_api_db_wait_seconds_bucket\{le="\+Inf"\} [1-9]\d*$)"));
}

BOOST_AUTO_TEST_SUITE_END()
