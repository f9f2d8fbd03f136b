// deploy/nginx/drover.conf, unchanged but for its ports, in a real nginx
// (Debian package) in front of two drover-api processes and a worker on
// loopback: jobs go through, a dead API process is routed around,
// /maintenance stays closed, oversized headers and bodies end at nginx.
#include <signal.h>

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

std::string nginx_binary() {
    for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx"}) {
        if (fs::exists(p)) return p;
    }
    return "";
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

struct NginxInFront {
    test::DroverStack stack;
    TempDir dir;
    int second_port = test::free_port();
    int nginx_port = test::free_port();
    std::unique_ptr<test::Process> second_api;
    std::unique_ptr<test::Process> nginx;

    NginxInFront() {
        stack.start_api();
        second_api = std::make_unique<test::Process>(
            test::binary_path("drover-api"), std::vector<std::string>{},
            std::map<std::string, std::string>{{"DROVER_DATABASE_URL", stack.database().url()},
                                               {"DROVER_PORT", std::to_string(second_port)},
                                               {"DROVER_ADMIN_PORT", "0"}});
        BOOST_REQUIRE_MESSAGE(
            test::wait_until([&] { return test::http_request(second_port, "GET", "/readyz").status == 200; }),
            "the second drover-api did not become ready:\n" << second_api->output());
        stack.start_worker();

        std::string site = read_file(std::string(DROVER_SOURCE_DIR) + "/deploy/nginx/drover.conf");
        BOOST_REQUIRE(site.find("server 127.0.0.1:8081") != std::string::npos);
        replace_all(site, "server 127.0.0.1:8081", "server 127.0.0.1:" + std::to_string(stack.port()));
        replace_all(site, "server 127.0.0.1:8082", "server 127.0.0.1:" + std::to_string(second_port));
        replace_all(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(nginx_port) + ";");
        std::ofstream(dir.file("drover.conf")) << site;
        for (const char* sub : {"body", "proxy", "fastcgi", "uwsgi", "scgi"}) fs::create_directories(dir.file(sub));
        std::ofstream(dir.file("nginx.conf"))
            << "daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\npid " << dir.file("nginx.pid")
            << ";\nerror_log " << dir.file("error.log") << " info;\nevents { worker_connections 256; }\nhttp {\n"
            << "  access_log " << dir.file("access.log") << ";\n  client_body_temp_path " << dir.file("body")
            << ";\n  proxy_temp_path " << dir.file("proxy") << ";\n  fastcgi_temp_path " << dir.file("fastcgi")
            << ";\n  uwsgi_temp_path " << dir.file("uwsgi") << ";\n  scgi_temp_path " << dir.file("scgi")
            << ";\n  include " << dir.file("drover.conf") << ";\n}\n";
        nginx = std::make_unique<test::Process>(
            nginx_binary(), std::vector<std::string>{"-p", dir.str(), "-c", dir.file("nginx.conf"), "-e",
                                                     dir.file("error.log")});
        BOOST_REQUIRE_MESSAGE(test::wait_until([&] {
                                  return !nginx->running() ||
                                         test::http_request(nginx_port, "GET", "/readyz").status == 200;
                              }),
                              "nginx did not come up:\n" << nginx->output() << read_file(dir.file("error.log")));
    }
    ~NginxInFront() {
        if (nginx) nginx->signal(SIGQUIT);
        if (nginx) nginx->wait_exit(5s);
    }
};

struct NginxInstalled {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(!nginx_binary().empty());
        r.message() << "nginx is not installed (scripts/lib/common.sh ensure_deps installs it)";
        return r;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(nginx_proxy_e2etest, NginxInFront, *boost::unit_test::precondition(NginxInstalled()))

BOOST_AUTO_TEST_CASE(jobs_go_through_and_a_dead_api_process_is_routed_around) {
    auto created = test::http_request(nginx_port, "POST", "/v1/jobs", R"({"kind":"noop"})");
    BOOST_TEST(created.status == 202);
    std::string id = test::json_field(created.body, "id");
    BOOST_REQUIRE(!id.empty());
    BOOST_TEST(poll_until([&] {
        return test::json_field(test::http_request(nginx_port, "GET", "/v1/jobs/" + id).body, "status") == "succeeded";
    }, 30s));

    // Both processes answer; with one gone, every GET still succeeds.
    second_api->signal(SIGKILL);
    second_api->wait_exit(5s);
    for (int i = 0; i < 6; ++i) {
        BOOST_TEST(test::http_request(nginx_port, "GET", "/v1/jobs/" + id).status == 200);
    }
}

BOOST_AUTO_TEST_CASE(maintenance_is_closed_and_limits_end_at_nginx) {
    auto admin = test::http_request_as(test::default_operator_key, nginx_port, "GET", "/maintenance/apps");
    BOOST_TEST(admin.status == 404);
    BOOST_TEST(test::http_request_as(test::default_operator_key, nginx_port, "GET", "/maintenance").status == 404);

    // A 16 KiB header: over large_client_header_buffers (8k), refused by nginx.
    std::string big = "GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16384, 'a') + "\r\n\r\n";
    auto header = test::http_raw(nginx_port, big);
    BOOST_TEST(header.status == 400);

    // A 2 MiB body: over client_max_body_size, 413 before any API sees it.
    std::string body(2 * 1024 * 1024, ' ');
    auto too_big = test::http_request(nginx_port, "POST", "/v1/jobs", body);
    BOOST_TEST(too_big.status == 413);

    // Both API processes are still fine.
    BOOST_TEST(test::http_request(stack.port(), "GET", "/readyz").status == 200);
    BOOST_TEST(test::http_request(second_port, "GET", "/readyz").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
