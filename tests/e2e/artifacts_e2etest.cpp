// End to end: upload a zip, run a command kind that reads inbound/ and writes
// outbound/, list and download its artifacts (ETag, type, Range), compare
// sha256s with the stored rows and files; another app's key gets 404 on every
// route; links left in outbound/ are not stored.
#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <thread>
#include <vector>

#include "core/crypto.hpp"
#include "core/store/app_store.hpp"
#include "core/store/key_store.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/zip_builder.hpp"

using namespace drover;
using drover::e2e::parse_json;
using drover::e2e::scalar;
using drover::e2e::text_value;
using drover::test::ZipBuilder;

namespace {

std::string sha256_hex(const std::string& s) { return crypto::to_hex(crypto::sha256(s)); }

// The peak resident memory of a process so far, in KiB.
std::int64_t peak_rss_kib(pid_t pid) {
    for (const auto& line : e2e::read_lines("/proc/" + std::to_string(pid) + "/status")) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
    }
    return -1;
}

// name → content of every entry of a zip, read with libarchive.
std::map<std::string, std::string> zip_entries(const std::string& zip) {
    std::map<std::string, std::string> out;
    auto* a = archive_read_new();
    archive_read_support_format_zip(a);
    BOOST_REQUIRE(archive_read_open_memory(a, zip.data(), zip.size()) == ARCHIVE_OK);
    archive_entry* entry = nullptr;
    int rc;
    while ((rc = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
        std::string content, buffer(65536, '\0');
        la_ssize_t n;
        while ((n = archive_read_data(a, buffer.data(), buffer.size())) > 0) content.append(buffer.data(), n);
        BOOST_REQUIRE(n == 0);
        out[archive_entry_pathname(entry)] = content;
    }
    BOOST_TEST(rc == ARCHIVE_EOF, archive_error_string(a));
    archive_read_free(a);
    return out;
}

std::string kinds_json() {
    auto kinds = e2e::kinds_file({
        e2e::CommandKind("transform",
                         "tr a-z A-Z < \"$DROVER_INBOUND/in/a.txt\" > \"$DROVER_OUTBOUND/out.txt\"; "
                         "mkdir -p \"$DROVER_OUTBOUND/sub\"; "
                         "head -c 3000 /dev/urandom > \"$DROVER_OUTBOUND/sub/data.bin\"; "
                         "ln -s /etc/passwd \"$DROVER_OUTBOUND/link\"; "
                         "echo '{\"ok\": true}' > \"$DROVER_OUTBOUND/result.json\""),
        e2e::CommandKind("both_results", "echo 'result {\"from\": \"control\"}' >&3; "
                                         "echo '{\"from\": \"file\"}' > \"$DROVER_OUTBOUND/result.json\""),
        e2e::CommandKind("bad_result", "echo '{not json' > \"$DROVER_OUTBOUND/result.json\""),
        e2e::CommandKind("short_lived", "echo brief > \"$DROVER_OUTBOUND/brief.txt\""),
        e2e::CommandKind("big", "head -c 41943040 /dev/urandom > \"$DROVER_OUTBOUND/big.bin\"; "
                                "mkdir \"$DROVER_OUTBOUND/d\"; echo small > \"$DROVER_OUTBOUND/d/small.txt\""),
    });
    // The kind's own artifact retention (not in e2e::CommandKind).
    auto at = kinds.find("\"short_lived\":{");
    return kinds.insert(at + std::string("\"short_lived\":{").size(), "\"artifact_retention_s\":60,");
}

struct Fixture {
    test::DroverStack stack{kinds_json()};
    db::Connection c = stack.database().connect();
    std::string other_key;
    std::filesystem::path storage;

    Fixture() {
        AppStore(c).create("other");
        other_key = KeyStore(c).create("other", Role::admin).plaintext;
        storage = stack.dir() / "state" / "storage";
        stack.start_api();
        stack.start_worker();
    }
    test::HttpResponse get(const std::string& path, const std::string& extra_headers = {},
                           const std::string& key = test::default_api_key) {
        return test::http_raw(stack.port(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                                                std::to_string(stack.port()) + "\r\nAuthorization: Bearer " + key +
                                                "\r\n" + extra_headers + "\r\n");
    }
    std::filesystem::path blob(const std::string& sha) {
        return storage / "blobs" / sha.substr(0, 2) / sha.substr(2, 2) / sha;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(artifacts_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(outbound_files_become_artifacts_listed_and_downloaded_by_their_app_only) {
    auto up = test::http_request(stack.port(), "POST", "/v1/uploads",
                                 ZipBuilder().file("in/a.txt", "hello artifacts").bytes(), "application/zip");
    BOOST_TEST_REQUIRE(up.status == 201, up.body);
    std::string upload_id = parse_json(up.body)["id"].GetString();
    auto r = stack.post_job(R"({"kind": "transform", "upload_id": ")" + upload_id + "\"}");
    BOOST_TEST_REQUIRE(r.status == 202, r.body);
    std::string job = test::json_field(r.body, "id");
    auto done = stack.wait_finished(job);
    BOOST_TEST_REQUIRE(test::json_field(done, "status") == "succeeded", done << stack.output());
    // outbound/result.json became the result (the job sent none over its control channel).
    auto finished = parse_json(done);
    BOOST_TEST_REQUIRE(finished["result"].IsObject(), done);
    BOOST_TEST(finished["result"]["ok"].GetBool());

    // Listed: the regular files, by path in outbound/; the symlink is not.
    auto list = get("/v1/jobs/" + job + "/artifacts");
    BOOST_TEST_REQUIRE(list.status == 200, list.body);
    auto doc = parse_json(list.body);
    std::vector<std::string> names;
    std::map<std::string, std::string> sha_of;
    for (const auto& a : doc["artifacts"].GetArray()) {
        names.push_back(a["name"].GetString());
        sha_of[a["name"].GetString()] = a["sha256"].GetString();
    }
    BOOST_TEST(names == (std::vector<std::string>{"out.txt", "result.json", "sub/data.bin"}));
    BOOST_TEST(scalar(c, "SELECT count(*) FROM drover.artifacts WHERE job_id = " + job) == 3);
    BOOST_TEST(scalar(c, "SELECT count(*) FROM drover.artifacts WHERE job_id = " + job +
                             " AND expires_at BETWEEN now() + interval '23 hours' AND now() + interval '25 hours'") == 3);

    // Downloaded: the bytes, their type, ETag = sha256, and the same bytes as the stored blob.
    auto out = get("/v1/jobs/" + job + "/artifacts/out.txt");
    BOOST_TEST_REQUIRE(out.status == 200, out.body);
    BOOST_TEST(out.body == "HELLO ARTIFACTS");
    BOOST_TEST(out.headers["etag"] == "\"" + sha256_hex("HELLO ARTIFACTS") + "\"");
    BOOST_TEST(out.headers["content-type"].find("text/plain") == 0u);
    BOOST_TEST(sha_of["out.txt"] == sha256_hex(out.body));
    auto data = get("/v1/jobs/" + job + "/artifacts/sub%2Fdata.bin");
    BOOST_TEST_REQUIRE(data.status == 200, data.body);
    BOOST_TEST(data.body.size() == 3000u);
    BOOST_TEST(sha256_hex(data.body) == sha_of["sub/data.bin"]);
    BOOST_TEST(e2e::read_file(blob(sha_of["sub/data.bin"])) == data.body);

    // Ranges, and a conditional request.
    auto part = get("/v1/jobs/" + job + "/artifacts/out.txt", "Range: bytes=1-3\r\n");
    BOOST_TEST(part.status == 206);
    BOOST_TEST(part.body == "ELL");
    BOOST_TEST(part.headers["content-range"] == "bytes 1-3/15");
    auto tail = get("/v1/jobs/" + job + "/artifacts/out.txt", "Range: bytes=-4\r\n");
    BOOST_TEST(tail.body == "ACTS");
    BOOST_TEST(get("/v1/jobs/" + job + "/artifacts/out.txt", "Range: bytes=99-\r\n").status == 416);
    BOOST_TEST(get("/v1/jobs/" + job + "/artifacts/out.txt", "If-None-Match: " + out.headers["etag"] + "\r\n").status ==
               304);
    BOOST_TEST(get("/v1/jobs/" + job + "/artifacts/nope.txt").status == 404);
    BOOST_TEST(get("/v1/jobs/" + job + "/artifacts/link").status == 404);

    // Another app's key: 404 on every route of this job and upload.
    for (const std::string& path : {"/v1/jobs/" + job + "/artifacts", "/v1/jobs/" + job + "/artifacts/out.txt",
                                    "/v1/uploads/" + upload_id, "/v1/jobs/" + job}) {
        BOOST_TEST(get(path, "", other_key).status == 404, path);
    }
}

BOOST_AUTO_TEST_CASE(a_result_sent_over_the_control_channel_wins_and_a_bad_result_json_is_ignored) {
    auto both = test::json_field(stack.post_job(R"({"kind": "both_results"})").body, "id");
    auto bad = test::json_field(stack.post_job(R"({"kind": "bad_result"})").body, "id");
    auto b = parse_json(stack.wait_finished(both));
    BOOST_TEST(b["status"].GetString() == std::string("succeeded"));
    BOOST_TEST(b["result"]["from"].GetString() == std::string("control"));
    auto x = parse_json(stack.wait_finished(bad));
    BOOST_TEST(x["status"].GetString() == std::string("succeeded"));
    BOOST_TEST(x["result"].IsNull());
    auto logs = get("/v1/jobs/" + bad + "/logs").body;
    BOOST_TEST(logs.find("result.json is not valid JSON") != std::string::npos, logs);
    // Still stored as an artifact, as it was written.
    BOOST_TEST(get("/v1/jobs/" + bad + "/artifacts/result.json").body == "{not json\n");
}

BOOST_AUTO_TEST_CASE(a_kind_sets_its_own_artifact_retention) {
    auto job = test::json_field(stack.post_job(R"({"kind": "short_lived"})").body, "id");
    BOOST_TEST_REQUIRE(test::json_field(stack.wait_finished(job), "status") == "succeeded");
    BOOST_TEST(scalar(c, "SELECT count(*) FROM drover.artifacts WHERE job_id = " + job +
                             " AND expires_at BETWEEN now() + interval '50 seconds' AND now() + interval '70 seconds'") ==
               1);
}

BOOST_AUTO_TEST_CASE(large_artifacts_are_streamed_and_all_of_them_come_as_one_zip) {
    auto job = test::json_field(stack.post_job(R"({"kind": "big"})").body, "id");
    BOOST_TEST_REQUIRE(test::json_field(stack.wait_finished(job, std::chrono::seconds(60)), "status") == "succeeded");
    auto sha = text_value(c, "SELECT sha256 FROM drover.artifacts WHERE job_id = " + job + " AND name = 'big.bin'");
    auto stored = e2e::read_file(blob(sha));
    BOOST_TEST_REQUIRE(stored.size() == 41943040u);

    // 40 MiB through the API: the bytes and Content-Length are right, and the
    // API's peak memory grew by far less than the file (it was read whole
    // into the reply, then copied into the response, before streaming).
    auto before = peak_rss_kib(stack.api().pid());
    auto big = get("/v1/jobs/" + job + "/artifacts/big.bin");
    auto after = peak_rss_kib(stack.api().pid());
    BOOST_TEST_REQUIRE(big.status == 200);
    BOOST_TEST(big.headers["content-length"] == "41943040");
    BOOST_TEST(big.body.size() == stored.size());
    BOOST_TEST(sha256_hex(big.body) == sha);
#if !defined(__SANITIZE_ADDRESS__)
    BOOST_TEST(after - before < 16 * 1024, "peak RSS grew by " << (after - before) << " KiB");
#else
    // AddressSanitizer keeps every freed chunk in its quarantine (256 MB), so
    // a streamed download grows RSS like a whole copy: the bound is the plain
    // build's to check.
    BOOST_TEST_MESSAGE("peak RSS grew by " << (after - before) << " KiB (not bounded under AddressSanitizer)");
#endif

    // A range across a chunk boundary, and the last bytes.
    auto part = get("/v1/jobs/" + job + "/artifacts/big.bin", "Range: bytes=262000-262299\r\n");
    BOOST_TEST(part.status == 206);
    BOOST_TEST(part.headers["content-length"] == "300");
    BOOST_TEST(part.body == stored.substr(262000, 300));
    auto tail = get("/v1/jobs/" + job + "/artifacts/big.bin", "Range: bytes=-5\r\n");
    BOOST_TEST(tail.body == stored.substr(stored.size() - 5));
    // artifacts.zip: chunked, every artifact with its bytes.
    auto zip = get("/v1/jobs/" + job + "/artifacts.zip");
    BOOST_TEST_REQUIRE(zip.status == 200, zip.body.substr(0, 200));
    BOOST_TEST(zip.headers["transfer-encoding"] == "chunked");
    BOOST_TEST(zip.headers["content-type"] == "application/zip");
    auto entries = zip_entries(zip.body);
    BOOST_TEST(entries.size() == 2u);
    BOOST_TEST(sha256_hex(entries["big.bin"]) == sha);
    BOOST_TEST(entries["d/small.txt"] == "small\n");
    // Another app's key, an unknown job, a job with no artifacts.
    BOOST_TEST(get("/v1/jobs/" + job + "/artifacts.zip", "", other_key).status == 404);
    BOOST_TEST(get("/v1/jobs/999999999/artifacts.zip").status == 404);
    auto none = test::json_field(stack.post_job(R"({"kind": "bad_result"})").body, "id");
    stack.wait_finished(none);
    c.exec("DELETE FROM drover.artifacts WHERE job_id = " + none);
    auto empty = get("/v1/jobs/" + none + "/artifacts.zip");
    BOOST_TEST(empty.status == 200);
    BOOST_TEST(zip_entries(empty.body).empty());

    // A stored file gone from disk: a 500 before any byte, not a short body.
    std::filesystem::remove(blob(sha));
    BOOST_TEST(get("/v1/jobs/" + job + "/artifacts/big.bin").status == 500);
}

// Clients that ask for a download and never read it held their connections
// for ever: a connection with an answer in flight is never idle, so the
// registry left them alone, and DROVER_MAX_CONNECTIONS of them locked every
// new client out with 503. Now an answer none of which is taken for
// DROVER_SEND_TIMEOUT_S is abandoned; a slow reader that keeps taking is not.
BOOST_AUTO_TEST_CASE(a_download_nobody_reads_is_abandoned_and_a_slow_reader_is_not) {
    using namespace std::chrono_literals;
    auto job = test::json_field(stack.post_job(R"({"kind": "big"})").body, "id");
    BOOST_TEST_REQUIRE(test::json_field(stack.wait_finished(job, std::chrono::seconds(60)), "status") == "succeeded");
    auto sha = text_value(c, "SELECT sha256 FROM drover.artifacts WHERE job_id = " + job + " AND name = 'big.bin'");
    stack.start_api({{"DROVER_SEND_TIMEOUT_S", "2"}, {"DROVER_MAX_CONNECTIONS", "16"}, {"DROVER_KEEPALIVE_TIMEOUT_S", "60"}});
    auto since = [](auto start) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    };
    const auto request = e2e::request_bytes("GET", "/v1/jobs/" + job + "/artifacts/big.bin");

    std::vector<std::unique_ptr<e2e::RawConnection>> unread;
    for (int i = 0; i < 16; ++i) {
        unread.push_back(std::make_unique<e2e::RawConnection>(stack.port()));
        BOOST_REQUIRE(unread.back()->send(request));
    }
    auto started = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(500ms);
    {
        // Full, and none of them idle.
        e2e::RawConnection extra(stack.port());
        auto refused = extra.read_response(3s);
        BOOST_TEST(refused.status == 503);
        BOOST_TEST(e2e::error_member(refused.body, "code") == "too_many_connections");
    }
    // Abandoned after the send timeout: a new client gets in again.
    test::HttpResponse health;
    BOOST_TEST(test::wait_until(
        [&] {
            e2e::RawConnection fresh(stack.port());
            health = fresh.request(e2e::request_bytes("GET", "/healthz"), 1s);
            return health.status == 200;
        },
        15s));
    BOOST_TEST(since(started).count() >= 2000, "let in after " << since(started).count() << " ms");
    for (auto& conn : unread) {
        BOOST_TEST(conn->closed_by_peer(10s));
        BOOST_TEST(conn->unread().size() < 41943040u);  // cut short: it never read the rest
    }
    BOOST_TEST(stack.api().running());

    // A reader slower than the socket buffers but steady, for longer than the
    // send timeout, gets every byte.
    const std::size_t length = 8 * 1024 * 1024;
    e2e::RawConnection slow(stack.port());
    BOOST_REQUIRE(slow.send(e2e::request_bytes("GET", "/v1/jobs/" + job + "/artifacts/big.bin", "",
                                               "Range: bytes=0-" + std::to_string(length - 1) + "\r\n")));
    auto slow_start = std::chrono::steady_clock::now();
    while (slow.unread().size() < length && slow.read_more(5s)) std::this_thread::sleep_for(25ms);
    auto r = slow.read_response(5s);
    BOOST_TEST(r.status == 206);
    BOOST_TEST(r.body.size() == length);
    BOOST_TEST(r.body == e2e::read_file(blob(sha)).substr(0, length));
    BOOST_TEST(since(slow_start).count() > 2500, "the slow read took " << since(slow_start).count() << " ms");
}

BOOST_AUTO_TEST_CASE(uploads_and_artifacts_are_ga4gh_drs_objects_of_their_app_only) {
    auto zip = ZipBuilder().file("in/a.txt", "drs me").bytes();
    auto up = test::http_request(stack.port(), "POST", "/v1/uploads", zip, "application/zip");
    BOOST_TEST_REQUIRE(up.status == 201, up.body);
    std::string upload_id = parse_json(up.body)["id"].GetString();
    auto r = stack.post_job(R"({"kind": "transform", "upload_id": ")" + upload_id + "\"}");
    std::string job = test::json_field(r.body, "id");
    BOOST_TEST_REQUIRE(test::json_field(stack.wait_finished(job), "status") == "succeeded");

    const std::string host = "127.0.0.1:" + std::to_string(stack.port());
    auto path_of = [&](const std::string& url) { return url.substr(url.find(host) + host.size()); };

    // The upload: a DrsObject whose access URL serves the very bytes.
    auto obj = get("/ga4gh/drs/v1/objects/upload-" + upload_id);
    BOOST_TEST_REQUIRE(obj.status == 200, obj.body);
    auto o = parse_json(obj.body);
    BOOST_TEST(o["id"].GetString() == "upload-" + upload_id);
    BOOST_TEST(o["self_uri"].GetString() == "drs://" + host + "/upload-" + upload_id);
    BOOST_TEST(o["size"].GetInt64() == static_cast<std::int64_t>(zip.size()));
    BOOST_TEST(std::string(o["created_time"].GetString()).size() >= 20u);
    BOOST_TEST(o["checksums"][0]["type"].GetString() == std::string("sha-256"));
    BOOST_TEST(o["checksums"][0]["checksum"].GetString() == sha256_hex(zip));
    BOOST_TEST(o["access_methods"][0]["type"].GetString() == std::string("https"));
    std::string url = o["access_methods"][0]["access_url"]["url"].GetString();
    auto bytes = get(path_of(url));
    BOOST_TEST(bytes.status == 200);
    BOOST_TEST(bytes.body == zip);
    auto access = get("/ga4gh/drs/v1/objects/upload-" + upload_id + "/access/https");
    BOOST_TEST(access.status == 200);
    BOOST_TEST(parse_json(access.body)["url"].GetString() == url);

    // An artifact: the same, its access URL the artifact download.
    auto artifact_id = std::to_string(scalar(c, "SELECT id FROM drover.artifacts WHERE job_id = " + job +
                                                    " AND name = 'sub/data.bin'"));
    auto a = parse_json(get("/ga4gh/drs/v1/objects/artifact-" + artifact_id).body);
    BOOST_TEST_REQUIRE(a.IsObject());
    BOOST_TEST(a["name"].GetString() == std::string("sub/data.bin"));
    auto data = get(path_of(a["access_methods"][0]["access_url"]["url"].GetString()));
    BOOST_TEST(data.status == 200);
    BOOST_TEST(sha256_hex(data.body) == a["checksums"][0]["checksum"].GetString());

    // Unknown, malformed and another app's: 404 with a DRS error body.
    for (const std::string& id :
         std::vector<std::string>{"upload-999999", "artifact-0", "nonsense", "upload-" + upload_id}) {
        auto key = id == "upload-" + upload_id ? other_key : std::string(test::default_api_key);
        auto e = get("/ga4gh/drs/v1/objects/" + id, "", key);
        BOOST_TEST(e.status == 404, id);
        BOOST_TEST(parse_json(e.body)["status_code"].GetInt() == 404);
        BOOST_TEST(get("/ga4gh/drs/v1/objects/" + id + "/access/https", "", key).status == 404);
    }
    BOOST_TEST(get("/ga4gh/drs/v1/objects/upload-" + upload_id + "/access/s3").status == 404);
    BOOST_TEST(get("/v1/uploads/" + upload_id + "/content", "", other_key).status == 404);
    BOOST_TEST(get("/ga4gh/drs/v1/objects/upload-" + upload_id, "", "").status == 401);
}

BOOST_AUTO_TEST_SUITE_END()
