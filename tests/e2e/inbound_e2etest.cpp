// A job that names an upload (POST /v1/jobs "upload_id") finds it unpacked in
// its inbound/ folder when its command starts; inbound/ is emptied when the
// job ends; an upload of another app, or none, refuses the job.
#include <boost/test/unit_test.hpp>

#include "core/store/app_store.hpp"
#include "core/store/key_store.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/zip_builder.hpp"

using namespace drover;
using drover::e2e::error_member;
using drover::e2e::parse_json;
using drover::e2e::scalar;
using drover::test::ZipBuilder;

namespace {

const e2e::TempDir& scratch() {
    static e2e::TempDir dir;
    return dir;
}

std::string kinds_json() {
    return e2e::kinds_file({
        // Prints a file of its upload and every path in inbound/, and notes where inbound/ was.
        e2e::CommandKind("read_inbound", "cat \"$DROVER_INBOUND/in/a.txt\"; echo; "
                                         "cd \"$DROVER_INBOUND\" && find . -type f | sort; "
                                         "echo \"$DROVER_INBOUND\" > " +
                                             scratch().file("inbound-$DROVER_JOB_ID"))
            .shares(scratch().str()),
    });
}

struct Fixture {
    test::DroverStack stack{kinds_json()};
    db::Connection c = stack.database().connect();
    std::string other_key;

    Fixture() {
        AppStore(c).create("other");
        other_key = KeyStore(c).create("other", Role::admin).plaintext;
        stack.start_api();
    }

    std::string upload(const std::string& zip, const std::string& key = test::default_api_key) {
        auto r = test::http_request_as(key, stack.port(), "POST", "/v1/uploads", zip, "application/zip");
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return parse_json(r.body)["id"].GetString();
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(inbound_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(a_job_finds_its_upload_unpacked_in_inbound_and_it_is_gone_afterwards) {
    auto id = upload(ZipBuilder()
                         .dir("in/")
                         .file("in/a.txt", "hello from inbound")
                         .dir("in/deep/")
                         .file("in/deep/b.txt", std::string(5000, 'b'), true)
                         .bytes());
    auto r = stack.post_job(R"({"kind": "read_inbound", "upload_id": ")" + id + "\"}");
    BOOST_TEST_REQUIRE(r.status == 202, r.body);
    std::string job = test::json_field(r.body, "id");
    BOOST_TEST(scalar(c, "SELECT upload_id FROM drover.jobs WHERE id = " + job) == std::stoll(id));
    BOOST_TEST(test::json_field(r.body, "upload_id") == id);
    BOOST_TEST(test::json_field(stack.get_job(job).body, "upload_id") == id);

    stack.start_worker();
    auto done = stack.wait_finished(job);
    BOOST_TEST_REQUIRE(test::json_field(done, "status") == "succeeded", done << stack.output());
    auto logs = test::http_request(stack.port(), "GET", "/v1/jobs/" + job + "/logs").body;
    BOOST_TEST(logs.find("hello from inbound") != std::string::npos, logs);
    BOOST_TEST(logs.find("./in/deep/b.txt") != std::string::npos, logs);

    // The job saw its folder at the sandbox's fixed path; on the host, its
    // attempt folder (<job>-<attempt>, inbound/ in it) is gone once it ended.
    auto inbound = e2e::read_lines(scratch().file("inbound-" + job));
    BOOST_TEST_REQUIRE(inbound.size() == 1u);
    BOOST_TEST(inbound[0] == "/job/inbound");
    BOOST_TEST(e2e::poll_until(
        [&] {
            std::error_code ec;
            for (auto it = std::filesystem::recursive_directory_iterator(stack.dir(), ec);
                 !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
                if (it->path().filename().string().starts_with(job + "-")) return false;
            }
            return true;
        },
        std::chrono::seconds(5)));
}

BOOST_AUTO_TEST_CASE(a_job_naming_an_upload_of_another_app_or_none_is_refused_and_not_inserted) {
    auto mine = upload(ZipBuilder().file("in/a.txt", "x").bytes());
    auto theirs = upload(ZipBuilder().file("in/a.txt", "y").bytes(), other_key);
    for (const std::string& body :
         {R"({"kind": "read_inbound", "upload_id": ")" + theirs + "\"}",
          std::string(R"({"kind": "read_inbound", "upload_id": "999999"})"),
          std::string(R"({"kind": "read_inbound", "upload_id": "abc"})"),
          std::string(R"({"kind": "read_inbound", "upload_id": -3})")}) {
        auto r = stack.post_job(body);
        BOOST_TEST(r.status == 422, body << " → " << r.body);
        BOOST_TEST(error_member(r.body, "code") == "unknown_upload");
        BOOST_TEST(error_member(r.body, "field") == "upload_id");
    }
    auto wrong_type = stack.post_job(R"({"kind": "read_inbound", "upload_id": true})");
    BOOST_TEST(wrong_type.status == 422);
    BOOST_TEST(e2e::job_count(c) == 0);
    // Its own upload, by the other app: accepted.
    auto ok = test::http_request_as(other_key, stack.port(), "POST", "/v1/jobs",
                                    R"({"kind": "read_inbound", "upload_id": )" + theirs + "}");
    BOOST_TEST(ok.status == 202, ok.body);
    BOOST_TEST(!mine.empty());
}

BOOST_AUTO_TEST_CASE(a_batch_names_uploads_per_job_and_one_bad_upload_refuses_the_whole_batch) {
    auto mine = upload(ZipBuilder().file("in/a.txt", "batch one").bytes());
    auto theirs = upload(ZipBuilder().file("in/a.txt", "not yours").bytes(), other_key);
    auto batch = [&](const std::string& second_upload) {
        return test::http_request(stack.port(), "POST", "/v1/jobs/batch",
                                  R"({"jobs": [{"kind": "read_inbound", "upload_id": ")" + mine +
                                      R"("}, {"kind": "read_inbound"}, {"kind": "read_inbound", "upload_id": )" +
                                      second_upload + "}]}");
    };
    // Another app's upload, an unknown one, a malformed one: nothing inserted, the field named.
    for (const std::string& bad : {"\"" + theirs + "\"", std::string("\"999999\""), std::string("\"x\"")}) {
        auto r = batch(bad);
        BOOST_TEST(r.status == 422, bad << " → " << r.body);
        BOOST_TEST(error_member(r.body, "code") == "unknown_upload", r.body);
        BOOST_TEST(error_member(r.body, "field") == "jobs[2].upload_id", r.body);
    }
    BOOST_TEST(e2e::job_count(c) == 0);
    BOOST_TEST(scalar(c, "SELECT count(*) FROM drover.uploads WHERE id = " + mine +
                             " AND last_used_at > created_at") == 0);  // the refused batch touched nothing

    auto ok = batch("\"" + mine + "\"");
    BOOST_TEST_REQUIRE(ok.status == 202, ok.body);
    auto doc = parse_json(ok.body);
    auto ids = doc["ids"].GetArray();
    BOOST_TEST_REQUIRE(ids.Size() == 3u);
    std::vector<std::string> seen;
    for (const auto& id : ids) seen.push_back(test::json_field(stack.get_job(id.GetString()).body, "upload_id"));
    BOOST_TEST(seen == (std::vector<std::string>{mine, "", mine}));
    BOOST_TEST(scalar(c, "SELECT count(*) FROM drover.jobs WHERE upload_id = " + mine) == 2);

    // And the worker unpacks it for a batch job as for a single one.
    stack.start_worker();
    std::string first = ids[0].GetString();
    BOOST_TEST_REQUIRE(test::json_field(stack.wait_finished(first), "status") == "succeeded");
    auto logs = test::http_request(stack.port(), "GET", "/v1/jobs/" + first + "/logs").body;
    BOOST_TEST(logs.find("batch one") != std::string::npos, logs);
}

BOOST_AUTO_TEST_SUITE_END()
