// `drover sweep [NAME...] [--dry-run]`: runs the storage sweeps once and prints
// a JSON summary; a dry run counts what it would delete and deletes nothing.
#include <boost/test/unit_test.hpp>

#include "core/crypto.hpp"
#include "core/store/upload_store.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/process.hpp"

using namespace drover;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(sweep_cli_e2etest)

BOOST_AUTO_TEST_CASE(sweep_prints_counts_and_a_dry_run_deletes_nothing) {
    test::DroverStack stack;
    auto conn = stack.database().connect();
    auto root = stack.dir() / "storage";
    storage::BlobStore blobs(root);
    std::string bytes = crypto::random_bytes(100);
    auto u = UploadStore(conn, blobs).store(NewUpload{"default", "application/zip", 1, 1},
                                            storage::sha256_hex(bytes), bytes, 0);
    conn.exec("UPDATE drover.uploads SET last_used_at = now() - interval '2 hours'");
    auto run = [&](std::vector<std::string> args, int expected = 0) {
        test::Process cli(test::binary_path("drover"), args,
                          {{"DROVER_DATABASE_URL", stack.database().url()},
                           {"DROVER_STORAGE_DIR", root.string()},
                           {"DROVER_UPLOAD_GRACE_S", "3600"},
                           {"DROVER_LOG_LEVEL", "warn"}});
        auto status = cli.wait_exit(20s);
        BOOST_TEST(status.value_or(-1) == expected, cli.output());
        return cli.output();
    };
    auto dry = e2e::parse_json(run({"sweep", "uploads", "--dry-run"}));
    BOOST_TEST_REQUIRE(dry.IsObject());
    BOOST_TEST(dry["dry_run"].GetBool());
    BOOST_TEST(dry["sweeps"]["uploads"]["records"].GetInt64() == 1);
    BOOST_TEST(dry["sweeps"]["uploads"]["files_deleted"].GetInt64() == 0);
    BOOST_TEST(!dry["sweeps"].HasMember("eviction"));
    BOOST_TEST(std::filesystem::exists(blobs.path_of(u.sha256)));
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.uploads") == 1);

    auto real = e2e::parse_json(run({"sweep"}));
    BOOST_TEST_REQUIRE(real.IsObject());
    BOOST_TEST(real["sweeps"]["uploads"]["records"].GetInt64() == 1);
    BOOST_TEST(real["sweeps"]["uploads"]["files_deleted"].GetInt64() == 1);
    for (const char* name : {"artifacts", "uploads", "sessions", "eviction"}) BOOST_TEST(real["sweeps"].HasMember(name));
    BOOST_TEST(!std::filesystem::exists(blobs.path_of(u.sha256)));
    BOOST_TEST(e2e::scalar(conn, "SELECT count(*) FROM drover.uploads") == 0);

    auto again = e2e::parse_json(run({"sweep", "uploads"}));
    BOOST_TEST(again["sweeps"]["uploads"]["records"].GetInt64() == 0);
    run({"sweep", "bogus"}, 2);
}

BOOST_AUTO_TEST_SUITE_END()
