#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

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
