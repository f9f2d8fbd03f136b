// README.md's five-minute tour, pasted as a reader would: every ```sh block
// of the tour but the one that starts Drover (scripts/run) runs, in order,
// in one bash with `set -e`, against a Drover that `drover start` brought up
// with the tour's example kinds file. A curl line that cannot connect, a
// drover line that exits non-zero or a command the reader would not have
// fails the test, so the README cannot drift from what works.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/e2e/drover_cli.hpp"

namespace drover::e2e {
namespace {

namespace fs = std::filesystem;

struct Tour {
    std::string script;
    int drover_lines = 0;
    int curl_lines = 0;
};

// The tour's shell blocks (those after "## A five-minute tour", before the next "## ").
Tour read_tour(const std::string& readme) {
    auto start = readme.find("\n## A five-minute tour");
    BOOST_REQUIRE(start != std::string::npos);
    auto end = readme.find("\n## ", start + 1);
    std::istringstream in(readme.substr(start, end - start));
    Tour tour;
    bool in_block = false;
    std::string block;
    for (std::string line; std::getline(in, line);) {
        if (!in_block && line == "```sh") {
            in_block = true;
            block.clear();
        } else if (in_block && line == "```") {
            in_block = false;
            // The block that starts Drover in the foreground is the test's drover start.
            if (block.find("scripts/run") == std::string::npos) tour.script += block;
        } else if (in_block) {
            block += line + "\n";
            if (line.starts_with("drover ") || line.find("$(drover ") != std::string::npos) ++tour.drover_lines;
            if (line.starts_with("curl ") || line.find("$(curl ") != std::string::npos) ++tour.curl_lines;
        }
    }
    return tour;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readme_tour_e2etest)

BOOST_AUTO_TEST_CASE(the_tour_runs_as_pasted_with_curl_and_with_drover) {
    std::string source = DROVER_SOURCE_DIR;
    Tour tour = read_tour(read_file(source + "/README.md"));
    // The tour shows both ways; a README that lost one of them fails here.
    BOOST_TEST(tour.drover_lines >= 10);
    BOOST_TEST(tour.curl_lines >= 10);

    TempDir state, work;
    std::map<std::string, std::string> env = {{"DROVER_STATE_DIR", state.str()},
                                              {"DROVER_SHUTDOWN_GRACE_S", "2"},
                                              {"DROVER_KINDS_FILE", source + "/examples/kinds.json"}};
    struct Stop {
        std::map<std::string, std::string>& env;
        ~Stop() { run_drover({"stop"}, env); }
    } stop{env};
    auto started = run_drover({"start"}, env);
    BOOST_REQUIRE_MESSAGE(started.status == 0, started.out << started.err);

    // curl -s exits 0 on any HTTP status: every curl line also writes its
    // status to stderr, so that a line the API refuses (a 415 after a change of
    // Content-Type rules, a 404 of a wrong path) fails the test too.
    std::ofstream(work.file("tour.sh"))
        << "set -eu\n"
        << "curl() { command curl --write-out '%{stderr}tour-http-status %{http_code} %{method} %{url_effective}\\n' "
           "\"$@\"; }\n"
        << tour.script;
    std::string command = "cd " + work.str() +
                          " && env -u DROVER_URL -u DROVER_API_KEY DROVER_STATE_DIR=" + state.str() +
                          " bash tour.sh > tour.out 2> tour.err; echo $? > tour.rc";
    BOOST_REQUIRE(std::system(command.c_str()) == 0);
    std::string rc = read_file(work.file("tour.rc"));
    BOOST_TEST(rc == "0\n", "the tour stopped (exit " << rc << ")\nstdout:\n"
                                                      << read_file(work.file("tour.out")) << "\nstderr:\n"
                                                      << read_file(work.file("tour.err")));
    // Only the refusals the tour shows on purpose: 401 (no key), 409 (cancel a
    // finished job), 422 (bad args).
    std::istringstream err(read_file(work.file("tour.err")));
    int statuses = 0;
    for (std::string line; std::getline(err, line);) {
        if (!line.starts_with("tour-http-status ")) continue;
        ++statuses;
        int status = std::atoi(line.c_str() + std::strlen("tour-http-status "));
        bool expected = (status >= 200 && status < 300) || status == 304 || status == 401 || status == 409 || status == 422;
        BOOST_TEST(expected, "a curl line of the tour got " << line);
    }
    BOOST_TEST(statuses >= tour.curl_lines, "fewer HTTP answers (" << statuses << ") than curl lines");
    // What the drover lines downloaded is the shout kind's output of what was sent.
    BOOST_TEST(read_file(work.path() / "shouted" / "hello.txt") == "HELLO DROVER\n");
    BOOST_TEST(read_file(work.path() / "shouted" / "notes" / "more.txt") == "MORE\n");
    BOOST_TEST(read_file(work.file("tour.out")).find("exit code 1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
