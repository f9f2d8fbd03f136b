// Two "hosts" simulated with network namespaces: each gets a veth link to
// the machine's namespace, where Postgres and the API run; a worker runs in
// each. Postgres listens on loopback only, so a small TCP forwarder on the
// machine's side of the links carries the workers' connections to it.
// Cutting one host's link (ip link set down) is a host losing its network:
// its job's lease expires, the other host's worker rescues and runs it, and
// the cut-off worker's late completion is refused once the link is back.
// Needs root and `ip netns` (iproute2); skipped otherwise.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/process.hpp"
#include "tests/support/wait.hpp"

namespace drover::e2e {
namespace {

using namespace std::chrono_literals;

int sh(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

bool netns_usable() {
    if (geteuid() != 0) return false;
    std::string probe = "drprobe" + std::to_string(getpid());
    if (sh("ip netns add " + probe) != 0) return false;
    sh("ip netns delete " + probe);
    return true;
}

struct NetnsUsable {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(netns_usable());
        r.message() << "needs root and working `ip netns add` (iproute2)";
        return r;
    }
};

// Accepts on 0.0.0.0:port and pipes each connection to 127.0.0.1:target.
class TcpForwarder {
public:
    explicit TcpForwarder(int target) : target_(target) {
        listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 64) != 0) {
            throw std::runtime_error("forwarder: bind/listen failed");
        }
        socklen_t len = sizeof addr;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~TcpForwarder() {
        stop_ = true;
        shutdown(listen_fd_, SHUT_RDWR);
        close(listen_fd_);
        acceptor_.join();
        for (auto& t : pumps_) t.join();
    }
    int port() const { return port_; }

private:
    void accept_loop() {
        while (!stop_) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (poll(&p, 1, 200) <= 0) continue;
            int client = accept(listen_fd_, nullptr, nullptr);
            if (client < 0) continue;
            int server = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            addr.sin_port = htons(static_cast<uint16_t>(target_));
            if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                close(client);
                close(server);
                continue;
            }
            pumps_.emplace_back([this, client, server] { pump(client, server); });
        }
    }
    void pump(int a, int b) {
        char buf[65536];
        while (!stop_) {
            pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
            if (poll(p, 2, 200) <= 0) continue;
            bool done = false;
            for (int i = 0; i < 2 && !done; ++i) {
                if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                ssize_t n = recv(p[i].fd, buf, sizeof buf, 0);
                if (n <= 0 || send(p[1 - i].fd, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) done = true;
            }
            if (done) break;
        }
        close(a);
        close(b);
    }

    int target_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread acceptor_;
    std::vector<std::thread> pumps_;
};

// A network namespace linked to the machine's by a veth pair:
// machine side 10.231.<n>.1/30, host side 10.231.<n>.2/30.
class SimulatedHost {
public:
    SimulatedHost(const std::string& tag, int subnet) : subnet_(subnet) {
        ns_ = "dr" + tag + std::to_string(getpid());
        outer_ = "dv" + tag + "o" + std::to_string(getpid() % 100000);
        inner_ = "dv" + tag + "i" + std::to_string(getpid() % 100000);
        std::string net = "10.231." + std::to_string(subnet);
        for (const std::string& c :
             {"ip netns add " + ns_, "ip link add " + outer_ + " type veth peer name " + inner_,
              "ip link set " + inner_ + " netns " + ns_, "ip addr add " + net + ".1/30 dev " + outer_,
              "ip link set " + outer_ + " up", "ip netns exec " + ns_ + " ip addr add " + net + ".2/30 dev " + inner_,
              "ip netns exec " + ns_ + " ip link set " + inner_ + " up",
              "ip netns exec " + ns_ + " ip link set lo up"}) {
            if (sh(c) != 0) throw std::runtime_error("setting up a simulated host failed at: " + c);
        }
    }
    ~SimulatedHost() {
        sh("ip link delete " + outer_);
        sh("ip netns delete " + ns_);
    }
    std::string gateway() const { return "10.231." + std::to_string(subnet_) + ".1"; }
    void cut() { sh("ip netns exec " + ns_ + " ip link set " + inner_ + " down"); }
    void restore() { sh("ip netns exec " + ns_ + " ip link set " + inner_ + " up"); }
    const std::string& ns() const { return ns_; }

private:
    int subnet_;
    std::string ns_, outer_, inner_;
};

// postgres://user@127.0.0.1:PORT/db?x -> the same through host:port.
std::string rewrite_url(const std::string& url, const std::string& host, int port) {
    auto at = url.find('@');
    auto slash = url.find('/', at);
    return url.substr(0, at + 1) + host + ":" + std::to_string(port) + url.substr(slash);
}

int database_port(const std::string& url) {
    auto at = url.find('@');
    auto colon = url.find(':', at);
    return std::stoi(url.substr(colon + 1));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(several_hosts_e2etest, *boost::unit_test::precondition(NetnsUsable()))

BOOST_AUTO_TEST_CASE(a_host_that_loses_its_network_has_its_job_rescued_by_another_host) {
    test::DroverStack stack(kinds_file({CommandKind("work", "sleep 3; echo done").attempts(3)}));
    stack.start_api();
    TcpForwarder forwarder(database_port(stack.database().url()));
    int subnet = static_cast<int>(getpid() % 120) * 2 + 1;
    SimulatedHost h1("a", subnet), h2("b", subnet + 1);

    auto worker_on = [&](SimulatedHost& host, const std::string& id) {
        std::map<std::string, std::string> env = {
            {"DROVER_DATABASE_URL", rewrite_url(stack.database().url(), host.gateway(), forwarder.port())},
            {"DROVER_KINDS_FILE", stack.dir().string() + "/kinds.json"},
            {"DROVER_STATE_DIR", stack.dir().string() + "/state-" + id},
            {"DROVER_WORKER_ID", id},
            {"DROVER_LEASE_S", "3"},
            {"DROVER_RESCUE_INTERVAL_MS", "500"},
            {"DROVER_POLL_INTERVAL_MS", "300"},
            {"DROVER_SHUTDOWN_GRACE_S", "1"}};
        return std::make_unique<test::Process>(
            "/usr/sbin/ip", std::vector<std::string>{"netns", "exec", host.ns(), test::binary_path("drover-worker")},
            env);
    };
    auto conn = stack.database().connect();

    auto w2 = worker_on(h2, "host-b");
    auto created = stack.post_job(R"({"kind":"work"})");
    BOOST_REQUIRE_EQUAL(created.status, 202);
    std::string id = test::json_field(created.body, "id");
    BOOST_REQUIRE_MESSAGE(poll_until([&] {
        return text_value(conn, "SELECT lease_owner FROM drover.jobs WHERE id = " + id) == "host-b";
    }, 20s), "host-b never claimed the job:\n" << w2->output());

    h2.cut();
    auto w1 = worker_on(h1, "host-a");
    BOOST_TEST_REQUIRE(poll_until([&] {
        return text_value(conn, "SELECT status FROM drover.jobs WHERE id = " + id) == "succeeded";
    }, 40s), "the job was not rescued and run on host-a:\n" << w1->output());
    BOOST_TEST(scalar(conn, "SELECT attempt FROM drover.jobs WHERE id = " + id) == 2);

    // host-b comes back and tries to complete what it no longer owns.
    h2.restore();
    std::this_thread::sleep_for(3s);
    BOOST_TEST(text_value(conn, "SELECT status FROM drover.jobs WHERE id = " + id) == "succeeded");
    BOOST_TEST(scalar(conn, "SELECT attempt FROM drover.jobs WHERE id = " + id) == 2);
    BOOST_TEST(w1->running());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
