// What drover-worker does at start to stay small when idle (worker/main.cpp,
// worker/startup_memory.*; bench/run worker_idle_rss) must not change what it
// does: GnuTLS's implicit initialisation is skipped, yet a worker connecting
// with a password (SCRAM-SHA-256 over TCP, sslmode=disable: the test URL)
// runs jobs; a worker whose URL may use TLS keeps OpenSSL's error text.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

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

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no '" << from << "' in " << text);
    return text.replace(at, from.size(), to);
}

// A server on 127.0.0.1 that says yes to libpq's SSLRequest, then answers
// the TLS ClientHello with plain text.
class NotTlsServer {
public:
    NotTlsServer() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 8) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~NotTlsServer() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    int port() const { return port_; }

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) != 1) continue;
            int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            char buffer[4096];
            if (::recv(client, buffer, 8, MSG_WAITALL) == 8 && ::send(client, "S", 1, MSG_NOSIGNAL) == 1) {
                // The client's TLS ClientHello, answered with plain text.
                pollfd c{client, POLLIN, 0};
                if (::poll(&c, 1, 5000) == 1 && ::recv(client, buffer, sizeof buffer, 0) > 0) {
                    const char reply[] = "HTTP/1.1 400 Bad Request\r\n\r\nnot TLS at all\n";
                    [[maybe_unused]] auto n = ::send(client, reply, sizeof reply - 1, MSG_NOSIGNAL);
                    ::shutdown(client, SHUT_WR);
                    while (::poll(&c, 1, 2000) == 1 && ::recv(client, buffer, sizeof buffer, 0) > 0) {
                    }
                }
            }
            ::close(client);
        }
    }

    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
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

BOOST_AUTO_TEST_CASE(a_worker_whose_url_may_use_tls_reports_why_it_cannot_connect) {
    // The test server has no TLS: with sslmode=require the worker says so
    // (libpq's own words) instead of connecting without it.
    auto url = replaced(stack.database().url(), "sslmode=disable", "sslmode=require");
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_SANDBOX", "off"}, {"DROVER_DATABASE_URL", url}})];
    BOOST_TEST(e2e::poll_until(
                   [&] { return worker.output().find("server does not support SSL, but SSL was required") != std::string::npos; },
                   15s, 50ms),
               worker.output());
}

BOOST_AUTO_TEST_CASE(a_worker_whose_url_may_use_tls_keeps_openssls_error_text) {
    // With an sslmode other than disable the worker leaves OpenSSL's
    // initialisation alone, so libcrypto's errors keep their text: here the
    // root certificate file libpq reads once the server has said yes to TLS.
    NotTlsServer server;
    e2e::TempDir dir;
    auto root = dir.path() / "root.crt";
    std::ofstream(root) << "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    auto url = "postgres://drover:secret@127.0.0.1:" + std::to_string(server.port()) +
               "/drover?sslmode=verify-ca&sslrootcert=" + root.string() + "&gssencmode=disable&connect_timeout=5";
    auto& worker = *stack.workers()[stack.start_worker({{"DROVER_SANDBOX", "off"}, {"DROVER_DATABASE_URL", url}})];
    BOOST_TEST(e2e::poll_until(
                   [&] { return worker.output().find("could not read root certificate file") != std::string::npos; }, 15s,
                   50ms),
               worker.output());
    BOOST_TEST(worker.output().find("SSL error code") == std::string::npos, worker.output());
}

BOOST_AUTO_TEST_SUITE_END()
