// The admin listener's storage routes: whitelist and protect an upload (and
// what eviction then spares), an upload's full record, storage figures and
// running a sweep; operator keys only, and not on the public listener.
#include <boost/test/unit_test.hpp>

#include "core/crypto.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/zip_builder.hpp"

using namespace drover;
using drover::e2e::parse_json;
using drover::test::ZipBuilder;

namespace {

struct Fixture {
    test::DroverStack stack;
    Fixture() { stack.start_api({{"DROVER_UPLOAD_GRACE_S", "0"}}); }

    test::HttpResponse admin(const std::string& method, const std::string& path,
                             const std::string& key = test::default_operator_key) {
        return test::http_request_as(key, stack.admin_port(), method, path);
    }
    std::string upload(const std::string& content) {
        auto r = test::http_request(stack.port(), "POST", "/v1/uploads", ZipBuilder().file("f", content).bytes(),
                                    "application/zip");
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return parse_json(r.body)["id"].GetString();
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(storage_admin_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(whitelist_and_protect_set_the_flags_and_spare_the_upload) {
    auto kept = upload("keep me");
    auto gone = upload("let me go");
    auto base = "/maintenance/uploads/" + kept;
    auto w = admin("POST", base + "/whitelist");
    BOOST_TEST_REQUIRE(w.status == 200, w.body);
    BOOST_TEST(parse_json(w.body)["whitelisted"].GetBool());
    BOOST_TEST(parse_json(w.body)["app"].GetString() == std::string("default"));
    auto p = admin("POST", base + "/protect");
    BOOST_TEST(parse_json(p.body)["protected"].GetBool());
    // Protected implies whitelisted: the whitelist cannot go first.
    auto conflict = admin("DELETE", base + "/whitelist");
    BOOST_TEST(conflict.status == 409, conflict.body);
    BOOST_TEST(e2e::error_member(conflict.body, "code") == "protected");

    // The uploads sweep (grace 0) removes the other one and spares this one.
    auto run = admin("POST", "/maintenance/sweeps/uploads/run");
    BOOST_TEST_REQUIRE(run.status == 200, run.body);
    BOOST_TEST(parse_json(run.body)["records"].GetInt64() == 1);
    BOOST_TEST(admin("GET", "/maintenance/uploads/" + gone).status == 404);
    auto record = admin("GET", base);
    BOOST_TEST_REQUIRE(record.status == 200, record.body);
    BOOST_TEST(parse_json(record.body)["unfinished_jobs"].GetInt64() == 0);

    auto unprotect = admin("DELETE", base + "/protect");
    BOOST_TEST(!parse_json(unprotect.body)["protected"].GetBool());
    BOOST_TEST(parse_json(unprotect.body)["whitelisted"].GetBool());
    BOOST_TEST(!parse_json(admin("DELETE", base + "/whitelist").body)["whitelisted"].GetBool());

    auto storage = admin("GET", "/maintenance/storage");
    BOOST_TEST_REQUIRE(storage.status == 200, storage.body);
    auto s = parse_json(storage.body);
    BOOST_TEST(s["uploads"].GetInt64() == 1);
    BOOST_TEST(s["blobs"].GetInt64() == 1);
    BOOST_TEST(s["used_bytes"].GetInt64() == parse_json(record.body)["size"].GetInt64());
    BOOST_TEST(s["queued_deletions"].GetInt64() == 0);

    BOOST_TEST(admin("POST", "/maintenance/sweeps/bogus/run").status == 404);
    BOOST_TEST(admin("POST", "/maintenance/uploads/999999/whitelist").status == 404);
    auto dry = admin("POST", "/maintenance/sweeps/eviction/run?dry_run=true");
    BOOST_TEST(parse_json(dry.body)["dry_run"].GetBool());
}

BOOST_AUTO_TEST_CASE(storage_routes_need_an_operator_key_and_live_on_the_admin_listener_only) {
    auto id = upload("x");
    // An app's key (even admin) is refused: 403; the flag is untouched.
    BOOST_TEST(admin("POST", "/maintenance/uploads/" + id + "/whitelist", test::default_api_key).status == 403);
    BOOST_TEST(!parse_json(admin("GET", "/maintenance/uploads/" + id).body)["whitelisted"].GetBool());
    BOOST_TEST(admin("GET", "/maintenance/storage", "").status == 401);
    BOOST_TEST(test::http_request_as(test::default_operator_key, stack.port(), "GET", "/maintenance/storage").status ==
               404);
}

BOOST_AUTO_TEST_SUITE_END()
