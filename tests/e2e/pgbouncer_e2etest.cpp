// drover-api and a poll-only drover-worker (DROVER_LISTEN=off) through a real
// PgBouncer (Debian package) in transaction mode with a pool of 2 server
// connections, with DROVER_DB_PREPARED_STATEMENTS=off: jobs are created, run
// and finish, and a cancel reaches a running job at its next heartbeat.
// Skipped where pgbouncer is not installed.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/process.hpp"
#include "tests/support/wait.hpp"

namespace drover::e2e {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const char* const pgbouncer_binary = "/usr/sbin/pgbouncer";

struct PgbouncerInstalled {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(fs::exists(pgbouncer_binary));
        r.message() << "pgbouncer is not installed (scripts/lib/common.sh ensure_deps installs it)";
        return r;
    }
};

// postgres://user@127.0.0.1:PORT/db?x -> the same on another port.
std::string with_port(const std::string& url, int port) {
    auto at = url.find('@');
    auto colon = url.find(':', at);
    auto slash = url.find('/', colon);
    return url.substr(0, colon + 1) + std::to_string(port) + url.substr(slash);
}

// The password of the test cluster's superuser (scripts/lib/pg.sh: TCP needs
// scram), from the URL itself (user:password@) or the passfile it names; ""
// when it has none.
std::string password_of(const std::string& url) {
    auto scheme = url.find("://");
    auto userinfo_end = url.find('@');
    if (scheme != std::string::npos && userinfo_end != std::string::npos) {
        auto userinfo = url.substr(scheme + 3, userinfo_end - scheme - 3);
        if (auto colon = userinfo.find(':'); colon != std::string::npos) return userinfo.substr(colon + 1);
    }
    auto at = url.find("passfile=");
    if (at == std::string::npos) return {};
    auto end = url.find('&', at);
    std::ifstream in(url.substr(at + 9, end == std::string::npos ? std::string::npos : end - at - 9));
    std::string line;
    std::getline(in, line);  // host:port:db:user:password
    auto colon = line.rfind(':');
    return colon == std::string::npos ? std::string() : line.substr(colon + 1);
}

int port_of(const std::string& url) {
    auto at = url.find('@');
    return std::stoi(url.substr(url.find(':', at) + 1));
}

struct BehindPgbouncer {
    test::DroverStack stack{kinds_file({CommandKind("slow", "sleep 30")})};
    TempDir dir;
    int bouncer_port = test::free_port();
    std::unique_ptr<test::Process> bouncer;
    std::string url;

    BehindPgbouncer() {
        // The server's password (TCP needs scram): PgBouncer logs in with the
        // auth_file's password; clients get in on trust.
        std::ofstream(dir.file("users.txt")) << "\"postgres\" \"" << password_of(stack.database().url()) << "\"\n";
        std::ofstream(dir.file("pgbouncer.ini"))
            << "[databases]\n* = host=127.0.0.1 port=" << port_of(stack.database().url()) << "\n"
            << "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " << bouncer_port << "\n"
            << "auth_type = trust\nauth_file = " << dir.file("users.txt") << "\n"
            << "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 200\n"
            << "unix_socket_dir =\nignore_startup_parameters = extra_float_digits\n"
            << "logfile = " << dir.file("pgbouncer.log") << "\n";
        std::vector<std::string> args = {dir.file("pgbouncer.ini")};
        if (geteuid() == 0) {
            // PgBouncer refuses to run as root; -u drops to postgres.
            fs::permissions(dir.path(), fs::perms::all, fs::perm_options::add);
            args.insert(args.begin(), {"-u", "postgres"});
        }
        bouncer = std::make_unique<test::Process>(pgbouncer_binary, args);
        url = with_port(stack.database().url(), bouncer_port);
        BOOST_REQUIRE_MESSAGE(poll_until([&] {
            try {
                db::Connection c(url, "probe");
                return true;
            } catch (const std::exception&) {
                return !bouncer->running();
            }
        }, 10s) && bouncer->running(), "pgbouncer did not start:\n" << bouncer->output() << read_file(dir.file("pgbouncer.log")));
        std::map<std::string, std::string> env = {{"DROVER_DATABASE_URL", url},
                                                  {"DROVER_DB_PREPARED_STATEMENTS", "off"}};
        stack.start_api(env);
        env["DROVER_LISTEN"] = "off";
        env["DROVER_POLL_INTERVAL_MS"] = "200";
        env["DROVER_LEASE_S"] = "3";
        stack.start_worker(env);
    }
    ~BehindPgbouncer() {
        stack.workers().clear();
        if (bouncer) bouncer->signal(SIGTERM);
        if (bouncer) bouncer->wait_exit(5s);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pgbouncer_e2etest, BehindPgbouncer, *boost::unit_test::precondition(PgbouncerInstalled()))

BOOST_AUTO_TEST_CASE(jobs_run_through_transaction_pooling_with_a_poll_only_worker) {
    std::vector<std::string> ids;
    for (int i = 0; i < 30; ++i) {
        auto created = stack.post_job(R"({"kind":"sleep","args":{"ms":20}})");
        BOOST_TEST_REQUIRE(created.status == 202, created.body << stack.output());
        ids.push_back(test::json_field(created.body, "id"));
    }
    auto conn = stack.database().connect();
    BOOST_TEST(poll_until([&] { return scalar(conn, "SELECT count(*) FROM drover.jobs WHERE status = 'succeeded'") == 30; },
                          30s),
               "not every job succeeded:\n" << stack.output());
    // The poll-only worker never registered for wake-ups.
    BOOST_TEST(scalar(conn, "SELECT count(*) FROM drover.workers") == 0);
    for (const auto& id : ids) BOOST_TEST(test::json_field(stack.get_job(id).body, "status") == "succeeded");
}

BOOST_AUTO_TEST_CASE(a_cancel_reaches_a_running_job_without_listen) {
    auto created = stack.post_job(R"({"kind":"slow"})");
    BOOST_REQUIRE_EQUAL(created.status, 202);
    std::string id = test::json_field(created.body, "id");
    BOOST_REQUIRE(poll_until([&] { return test::json_field(stack.get_job(id).body, "status") == "running"; }, 20s));
    BOOST_TEST(test::http_request(stack.port(), "POST", "/v1/jobs/" + id + "/cancel").status == 200);
    BOOST_TEST(poll_until([&] { return test::json_field(stack.get_job(id).body, "status") == "cancelled"; }, 15s),
               stack.output());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
