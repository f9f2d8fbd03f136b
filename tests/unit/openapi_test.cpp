// api/docs/openapi.json describes exactly the routes the route tables
// register: a route added without its description (or a description left
// behind by a removed route) fails here.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <regex>
#include <set>

#include "api/auth/authenticator.hpp"
#include "api/router.hpp"

using namespace drover;
using namespace drover::api;

BOOST_AUTO_TEST_SUITE(openapi_test)

BOOST_AUTO_TEST_CASE(every_route_of_both_listeners_is_described_and_nothing_else) {
    DbExecutor db("postgres:///unused", 0, 1, 1000);  // no threads: nothing runs
    auto kinds = KindRegistry::load("");
    HealthHandler health(db);
    JobsHandler jobs(db, kinds);
    KeysHandler keys(db);
    StatusHandler status(db);
    DocsHandler docs;
    AdminHandler admin(db);
    UploadsHandler uploads(db, UploadsHandler::Options{});
    ArtifactsHandler artifacts(db, "/nonexistent");
    DrsHandler drs(db, "", "");
    StorageAdminHandler storage(db, StorageSweepSettings{});
    Authenticator auth(Authenticator::Options{});
    Pistache::Rest::Router public_router, admin_router;
    add_routes(public_router, Handlers{health, jobs, keys, status, docs, uploads, artifacts, drs}, auth);
    add_admin_routes(admin_router, admin, auth, &storage);

    std::set<std::string> registered;
    static const std::regex param(":([a-z_]+)");
    for (const auto& name : registered_routes()) {
        auto space = name.find(' ');
        std::string method = name.substr(0, space);
        for (auto& c : method) c = static_cast<char>(std::tolower(c));
        registered.insert(method + " " + std::regex_replace(name.substr(space + 1), param, "{$1}"));
    }
    BOOST_TEST(registered.size() > 20u);

    rapidjson::Document doc;
    doc.Parse(docs::openapi_json.data(), docs::openapi_json.size());
    BOOST_REQUIRE(!doc.HasParseError());
    std::set<std::string> described;
    for (const auto& path : doc["paths"].GetObject()) {
        for (const auto& op : path.value.GetObject()) {
            described.insert(std::string(op.name.GetString()) + " " + path.name.GetString());
            BOOST_TEST(op.value.HasMember("summary"), path.name.GetString());
            BOOST_TEST(op.value.HasMember("responses"), path.name.GetString());
        }
    }
    for (const auto& r : registered) BOOST_TEST(described.contains(r), r << " is not in api/docs/openapi.json");
    for (const auto& d : described) BOOST_TEST(registered.contains(d), d << " is described but not routed");
    auth.stop();
}

BOOST_AUTO_TEST_SUITE_END()
