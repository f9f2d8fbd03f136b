// drover install runs scripts/install, the same steps as ensure_deps (which
// scripts/test ran before these tests, so on this machine nothing is
// missing but, in a worktree without its own .tools, dbmate): --check says
// so in one JSON line and exits 1 only when something is missing; the real
// run, when nothing is missing, does nothing and says so.
#include <filesystem>

#include "tests/e2e/drover_cli.hpp"

namespace drover::e2e {

BOOST_AUTO_TEST_SUITE(install_command_e2etest)

BOOST_AUTO_TEST_CASE(check_lists_what_is_missing_and_install_does_nothing_when_nothing_is) {
    auto check = run_drover({"install", "--check"}, {});
    BOOST_TEST_REQUIRE(every_line_is_json(check.out), check.out << check.err);
    auto doc = parse_json(check.out);
    BOOST_TEST(doc["ok"].GetBool());
    BOOST_TEST(doc["check"].GetBool());
    // Every package is installed on a machine that ran scripts/test.
    BOOST_TEST(doc["apt_packages"].IsArray());
    BOOST_TEST(doc["apt_packages"].Size() == 0u, check.out);
    BOOST_TEST(!doc["job_user"].GetBool());
    std::string dbmate = doc["dbmate_path"].GetString();
    BOOST_TEST(dbmate.starts_with(std::string(DROVER_SOURCE_DIR) + "/.tools/"), dbmate);
    BOOST_TEST(doc["dbmate"].GetBool() == !std::filesystem::exists(dbmate));
    bool nothing = doc["nothing_to_do"].GetBool();
    BOOST_TEST(check.status == (nothing ? 0 : 1));

    auto bad = run_drover({"install", "--everything"}, {});
    BOOST_TEST(bad.status == 2);
    BOOST_TEST(bad.err.find("unknown argument") != std::string::npos);

    if (!nothing) return;  // installing dbmate would need the network: checked above only
    auto install = run_drover({"install"}, {});
    BOOST_TEST(install.status == 0);
    BOOST_TEST_REQUIRE(every_line_is_json(install.out), install.out << install.err);
    auto did = parse_json(install.out);
    BOOST_TEST(!did["check"].GetBool());
    BOOST_TEST(did["nothing_to_do"].GetBool());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
