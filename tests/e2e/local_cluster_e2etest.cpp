// The local Postgres that scripts/run (through scripts/lib/pg.sh) creates is
// safe on a shared machine. It used to be made with `initdb -A trust`: any
// local OS user connected as superuser (`runuser -u nobody -- psql …`
// worked, and `COPY … FROM PROGRAM` ran commands as postgres), and as root
// the script ran `chmod o+x` on the folders above the state folder.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/db/connection.hpp"
#include "core/error.hpp"
#include "tests/support/process.hpp"

using namespace drover;
namespace fs = std::filesystem;

namespace {

std::string pg_script() { return std::string(DROVER_SOURCE_DIR) + "/scripts/pg"; }

int run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

std::string output_of(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buf[512];
        while (fgets(buf, sizeof buf, p)) out += buf;
        pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

unsigned mode_of(const fs::path& path) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0) return 07777;
    return st.st_mode & 07777;
}

// A cluster started with scripts/pg in `dir`, destroyed afterwards.
struct Cluster {
    fs::path dir;
    int port = 0;
    std::string url;

    explicit Cluster(fs::path d) : dir(std::move(d)) {
        port = test::free_port();
        if (run(pg_script() + " start '" + dir.string() + "' " + std::to_string(port) + " test") != 0) {
            throw std::runtime_error("scripts/pg start failed for " + dir.string());
        }
        url = output_of(pg_script() + " url '" + dir.string() + "'");
    }
    ~Cluster() { run(pg_script() + " destroy '" + dir.string() + "'"); }
    // Where the cluster itself lives (DIR, or the folder DIR/home names).
    fs::path home() const {
        std::ifstream in(dir / "home");
        std::string h;
        if (in && std::getline(in, h)) return h;
        return dir;
    }
};

std::string temp_dir() {
    char path[] = "/tmp/drover-local-XXXXXX";
    if (!mkdtemp(path)) throw std::runtime_error("mkdtemp failed");
    return path;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(local_cluster_e2etest)

BOOST_AUTO_TEST_CASE(only_the_owner_and_the_password_get_in) {
    fs::path parent = temp_dir();
    {
        Cluster c(parent / "pg");
        // The URL scripts/pg hands out works (it names the password file)…
        BOOST_TEST(c.url.find("passfile=") != std::string::npos, c.url);
        BOOST_TEST(db::Connection(c.url).exec("SELECT 1").int64(0, 0) == 1);
        // … and the same URL without the password does not.
        std::string bare = "postgres://postgres@127.0.0.1:" + std::to_string(c.port) + "/postgres?sslmode=disable&passfile=/nonexistent";
        BOOST_CHECK_THROW(db::Connection{bare}, DbError);

        BOOST_TEST(mode_of(c.dir / "pgpass") == 0600u);
        BOOST_TEST((mode_of(c.home() / "postgres.log") & 077u) == 0u);
        BOOST_TEST(mode_of(c.home() / "sock") == 0700u);
        BOOST_TEST(mode_of(c.home() / "data") == 0700u);
        std::ifstream hba(c.home() / "data" / "pg_hba.conf");
        std::string text((std::istreambuf_iterator<char>(hba)), std::istreambuf_iterator<char>());
        BOOST_TEST(text.find("scram-sha-256") != std::string::npos);
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
            if (line.rfind("host", 0) == 0) BOOST_TEST(line.find("trust") == std::string::npos, line);
        }

        if (geteuid() == 0) {
            // Another local user: neither TCP (no password) nor the socket (its folder is closed).
            std::string as_nobody = "cd / && runuser -u nobody -- psql -X -w -U postgres -d postgres -c 'SELECT 1' ";
            BOOST_TEST(run(as_nobody + "-h 127.0.0.1 -p " + std::to_string(c.port)) != 0);
            BOOST_TEST(run(as_nobody + "-h '" + (c.home() / "sock").string() + "' -p " + std::to_string(c.port)) != 0);
        } else {
            BOOST_TEST_MESSAGE("not root: the `nobody` checks need runuser");
        }
    }
    fs::remove_all(parent);
}

// As root, a state folder the postgres user cannot reach (under /root, say)
// used to get `chmod o+x` on its ancestors; now the cluster lives elsewhere.
BOOST_AUTO_TEST_CASE(no_permission_changes_outside_the_state_folder) {
    if (geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: nothing to check");
        return;
    }
    fs::path closed = temp_dir();  // mode 0700, root's: like /root
    BOOST_REQUIRE(mode_of(closed) == 0700u);
    fs::path state = closed / "state";
    fs::create_directories(state);
    fs::permissions(state, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    {
        Cluster c(state / "pg");
        BOOST_TEST(db::Connection(c.url).exec("SELECT 1").int64(0, 0) == 1);
        BOOST_TEST(mode_of(closed) == 0700u);
        BOOST_TEST(mode_of(state) == 0755u);
        BOOST_TEST(c.home() != c.dir);
        BOOST_TEST(!fs::exists(c.dir / "data"));
        BOOST_TEST(fs::exists(c.home() / "data" / "PG_VERSION"));
    }
    BOOST_TEST(!fs::exists(state / "pg"));
    fs::remove_all(closed);
}

BOOST_AUTO_TEST_SUITE_END()
