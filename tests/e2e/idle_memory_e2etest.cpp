// What drover-worker does at start to stay small when idle (worker/main.cpp,
// worker/startup_memory.*; bench/run worker_idle_rss) must not change what it
// does: GnuTLS's implicit initialisation is skipped, yet a worker connecting
// with a password (SCRAM-SHA-256 over TCP, sslmode=disable: the test URL)
// runs jobs.
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    test::DroverStack stack{e2e::kinds_file({e2e::CommandKind("hello", "echo hello")})};

    std::string submit(const std::string& body) {
        auto r = stack.post_job(body);
        BOOST_REQUIRE_MESSAGE(r.status == 202, r.body);
        return test::json_field(r.body, "id");
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(idle_memory_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(a_worker_that_skips_gnutls_initialisation_connects_with_scram_and_runs_jobs) {
    const auto& url = stack.database().url();
    // The test cluster asks for a password over TCP (scram-sha-256 in pg_hba.conf).
    BOOST_REQUIRE_MESSAGE(url.find("@127.0.0.1:") != std::string::npos && url.find("sslmode=disable") != std::string::npos,
                          url);
    stack.start_api();
    // LD_DEBUG=bindings: the dynamic loader reports every symbol it binds, on stderr.
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_SANDBOX", "off"}, {"LD_DEBUG", "bindings"}})];
    auto id = submit(R"({"kind": "hello", "args": {}})");
    auto body = stack.wait_finished(id, 30s);
    BOOST_REQUIRE_MESSAGE(test::json_field(body, "status") == "succeeded", body << "\n" << stack.output());
    BOOST_TEST(worker.running());
    // libgnutls's constructor asked the worker whether to skip its global
    // initialisation, and got drover-worker's own answer.
    bool bound = false;
    std::istringstream lines(worker.output());
    for (std::string line; std::getline(lines, line);)
        bound = bound || (line.find("libgnutls") != std::string::npos &&
                          line.find("/drover-worker [0]: normal symbol `_gnutls_global_init_skip'") != std::string::npos);
    BOOST_TEST(bound, "no binding of _gnutls_global_init_skip to drover-worker in the worker's LD_DEBUG output");
}

BOOST_AUTO_TEST_SUITE_END()
