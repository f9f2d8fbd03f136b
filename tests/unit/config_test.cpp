#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"

using namespace drover;

BOOST_AUTO_TEST_SUITE(config_test)

BOOST_AUTO_TEST_CASE(flags_override_defaults) {
    const char* argv[] = {"drover-api", "--port=9000", "--api-threads", "3"};
    auto c = Config::load(Part::api, 4, argv);
    BOOST_TEST(c.integer("port") == 9000);
    BOOST_TEST(c.integer("api_threads") == 3);
    BOOST_TEST(c.str("host") == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(refuses_unknown_foreign_and_malformed_options) {
    const char* unknown[] = {"drover-api", "--colour=red"};
    BOOST_CHECK_THROW(Config::load(Part::api, 2, unknown), ConfigError);
    const char* foreign[] = {"drover-api", "--concurrency=3"};  // a worker setting
    BOOST_CHECK_THROW(Config::load(Part::api, 2, foreign), ConfigError);
    const char* malformed[] = {"drover-api", "--port=eighty"};
    BOOST_CHECK_THROW(Config::load(Part::api, 2, malformed), ConfigError);
    const char* dangling[] = {"drover-api", "--port"};
    BOOST_CHECK_THROW(Config::load(Part::api, 2, dangling), ConfigError);
}

BOOST_AUTO_TEST_CASE(out_of_range_and_malformed_values_are_refused_naming_the_setting) {
    auto error_of = [](Part part, std::vector<const char*> argv) -> std::string {
        try {
            Config::load(part, static_cast<int>(argv.size()), argv.data());
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "accepted";
    };
    // --port 70000 used to listen on 4464 (70000 mod 65536).
    auto port = error_of(Part::api, {"drover-api", "--port", "70000"});
    BOOST_TEST(port.find("DROVER_PORT") != std::string::npos, port);
    BOOST_TEST(port.find("1 to 65535") != std::string::npos, port);
    BOOST_TEST(error_of(Part::api, {"drover-api", "--port", "0"}) != "accepted");
    BOOST_TEST(error_of(Part::api, {"drover-api", "--port", "80x"}) != "accepted");
    BOOST_TEST(error_of(Part::api, {"drover-api", "--port", ""}) != "accepted");
    BOOST_TEST(error_of(Part::api, {"drover-api", "--port", "99999999999999999999999"}) != "accepted");
    BOOST_TEST(error_of(Part::api, {"drover-api", "--port", "65535"}) == "accepted");
    // --poll-interval-ms 0 made the listener spin.
    auto poll = error_of(Part::worker, {"drover-worker", "--poll-interval-ms", "0"});
    BOOST_TEST(poll.find("DROVER_POLL_INTERVAL_MS") != std::string::npos, poll);
    BOOST_TEST(error_of(Part::worker, {"drover-worker", "--concurrency", "0"}) != "accepted");
    BOOST_TEST(error_of(Part::worker, {"drover-worker", "--lease-s", "1"}) != "accepted");
    BOOST_TEST(error_of(Part::api, {"drover-api", "--api-threads", "-1"}) != "accepted");
    BOOST_TEST(error_of(Part::api, {"drover-api", "--max-request-bytes", "10"}) != "accepted");
    BOOST_TEST(error_of(Part::api, {"drover-api", "--log-level", "loud"}).find("DROVER_LOG_LEVEL") != std::string::npos);
    BOOST_TEST(error_of(Part::api, {"drover-api", "--log-level", "debug"}) == "accepted");
    // An empty choice is no choice: --auth "" must not read as "not on".
    BOOST_TEST(error_of(Part::api, {"drover-api", "--auth", ""}).find("DROVER_AUTH") != std::string::npos);
    BOOST_TEST(error_of(Part::api, {"drover-api", "--auth", "maybe"}) != "accepted");
    BOOST_TEST(error_of(Part::api, {"drover-api", "--auth-cache-ms", "2000"}) != "accepted");
    BOOST_TEST(error_of(Part::worker, {"drover-worker", "--sandbox", ""}) != "accepted");
    BOOST_TEST(error_of(Part::worker, {"drover-worker", "--sandbox", "off"}) == "accepted");
}

BOOST_AUTO_TEST_CASE(every_default_is_within_its_range) {
    for (auto part : {Part::api, Part::worker, Part::cli}) {
        std::map<std::string, std::string> defaults;
        for (const auto& s : all_settings()) {
            if (s.parts & static_cast<unsigned>(part)) defaults[std::string(s.name)] = std::string(s.fallback);
        }
        std::map<std::string, std::string> set;
        for (const auto& [name, value] : defaults) {
            if (!value.empty()) set[name] = value;
        }
        BOOST_CHECK_NO_THROW(Config::from(part, set));
    }
}

BOOST_AUTO_TEST_CASE(help_lists_only_the_binarys_settings) {
    const char* argv[] = {"drover-worker", "--help"};
    auto c = Config::load(Part::worker, 2, argv);
    BOOST_TEST(c.help_requested());
    auto help = c.help("drover-worker");
    BOOST_TEST(help.find("DROVER_CONCURRENCY") != std::string::npos);
    BOOST_TEST(help.find("DROVER_PORT") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_setting_is_documented) {
    std::ifstream in(std::string(DROVER_SOURCE_DIR) + "/docs/configuration.md");
    BOOST_REQUIRE_MESSAGE(in, "docs/configuration.md is missing");
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& s : all_settings()) {
        BOOST_TEST(text.str().find(std::string(s.env)) != std::string::npos, s.env << " is not in docs/configuration.md");
    }
}

BOOST_AUTO_TEST_SUITE_END()
