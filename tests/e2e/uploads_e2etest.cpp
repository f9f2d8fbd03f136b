// POST /v1/uploads over real HTTP: a zip is checked, stored once per content
// under the storage root and recorded for the app; refused zips, oversized
// bodies and a full storage leave no row, no blob file and no temp file.
#include <boost/test/unit_test.hpp>

#include "core/crypto.hpp"
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

std::string sha256_hex(const std::string& s) { return crypto::to_hex(crypto::sha256(s)); }

// n bytes that do not compress.
std::string noise(std::size_t n) {
    std::string s;
    auto seed = crypto::random_bytes(32);
    while (s.size() < n) s += crypto::sha256(std::to_string(s.size()) + seed);
    return s.substr(0, n);
}

struct Fixture {
    test::DroverStack stack;
    db::Connection c = stack.database().connect();
    std::string other_key;
    std::filesystem::path storage;

    Fixture() {
        AppStore(c).create("other");
        other_key = KeyStore(c).create("other", Role::admin).plaintext;
        storage = stack.dir() / "state" / "storage";
        stack.start_api({{"DROVER_MAX_UPLOAD_BYTES", "2000000"},
                         {"DROVER_MAX_UPLOAD_PART_BYTES", "100000"},
                         {"DROVER_MAX_PARTED_UPLOAD_BYTES", "2500000"},
                         {"DROVER_MAX_UPLOAD_ENTRIES", "500"},
                         {"DROVER_MAX_UPLOAD_UNCOMPRESSED_BYTES", "5000000"},
                         {"DROVER_MAX_STORAGE_BYTES", "3000000"}});
    }

    test::HttpResponse upload(const std::string& zip, const std::string& key = test::default_api_key) {
        return test::http_request_as(key, stack.port(), "POST", "/v1/uploads", zip, "application/zip");
    }
    // Headers that announce a body of `length` bytes, and no body.
    test::HttpResponse claim(const std::string& request_line, std::size_t length) {
        return test::http_raw(stack.port(), request_line + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                                                std::string(test::default_api_key) +
                                                "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n",
                              5000);
    }
    std::int64_t rows(const char* table) { return scalar(c, std::string("SELECT count(*) FROM drover.") + table); }
    // Regular files under a folder of the storage root.
    std::vector<std::filesystem::path> files(const char* sub) {
        std::vector<std::filesystem::path> out;
        std::error_code ec;
        for (auto it = std::filesystem::recursive_directory_iterator(storage / sub, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); ++it) {
            if (it->is_regular_file()) out.push_back(it->path());
        }
        return out;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(uploads_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(stores_a_zip_once_per_content_and_records_it_per_app) {
    auto zip = ZipBuilder().dir("in/").file("in/a.txt", "alpha").file("b.txt", std::string(4000, 'b'), true).bytes();
    auto r = upload(zip);
    BOOST_TEST_REQUIRE(r.status == 201, r.body);
    auto doc = parse_json(r.body);
    BOOST_TEST_REQUIRE(doc.IsObject());
    std::string id = doc["id"].GetString();
    BOOST_TEST(doc["sha256"].GetString() == sha256_hex(zip));
    BOOST_TEST(doc["size"].GetInt64() == static_cast<std::int64_t>(zip.size()));
    BOOST_TEST(doc["entries"].GetInt64() == 3);
    BOOST_TEST(doc["uncompressed_size"].GetInt64() == 4005);
    BOOST_TEST(r.headers["location"] == "/v1/uploads/" + id);

    // The row, and the blob at the path derived from its hash, with the very bytes.
    auto sha = sha256_hex(zip);
    BOOST_TEST(scalar(c, "SELECT count(*) FROM drover.uploads WHERE id = " + id + " AND app = 'default' AND sha256 = '" +
                             sha + "'") == 1);
    auto blob = storage / "blobs" / sha.substr(0, 2) / sha.substr(2, 2) / sha;
    BOOST_TEST(e2e::read_file(blob) == zip);
    BOOST_TEST(files("tmp").empty());

    // The same bytes from another app: a record of its own, the same blob, counted once.
    auto again = upload(zip, other_key);
    BOOST_TEST_REQUIRE(again.status == 201, again.body);
    BOOST_TEST(rows("uploads") == 2);
    BOOST_TEST(rows("blobs") == 1);
    BOOST_TEST(files("blobs").size() == 1u);
    BOOST_TEST(scalar(c, "SELECT sum(size) FROM drover.blobs") == static_cast<std::int64_t>(zip.size()));

    // Each app reads its own; the other's id is a 404, like an unknown one.
    std::string other_id = parse_json(again.body)["id"].GetString();
    BOOST_TEST(test::http_request(stack.port(), "GET", "/v1/uploads/" + id).status == 200);
    BOOST_TEST(test::http_request(stack.port(), "GET", "/v1/uploads/" + other_id).status == 404);
    BOOST_TEST(test::http_request_as(other_key, stack.port(), "GET", "/v1/uploads/" + id).status == 404);
    BOOST_TEST(test::http_request(stack.port(), "GET", "/v1/uploads/999999").status == 404);
    BOOST_TEST(test::http_request(stack.port(), "GET", "/v1/uploads/abc").status == 404);
}

BOOST_AUTO_TEST_CASE(refused_zips_leave_no_row_and_no_file) {
    test::ZipEntry link;
    link.name = "link";
    link.mode = S_IFLNK | 0777;
    link.data = "/etc/passwd";
    ZipBuilder many;
    for (int i = 0; i < 600; ++i) many.file("e" + std::to_string(i), "");
    const std::vector<std::pair<std::string, std::string>> corpus = {
        {ZipBuilder().file("ok.txt", "x").file("../evil", "x").bytes(), "unsafe_path"},
        {ZipBuilder().file("/abs", "x").bytes(), "unsafe_path"},
        {ZipBuilder().add(link).bytes(), "unsupported_entry"},
        {ZipBuilder().file(std::string("a\0b", 3), "x").bytes(), "invalid_name"},
        {ZipBuilder().file("zeros", std::string(20 << 20, '\0'), true).bytes(), "too_large_uncompressed"},
        {many.bytes(), "too_many_entries"},
        {"{\"not\": \"a zip\"}", "not_a_zip"},
    };
    for (const auto& [zip, code] : corpus) {
        auto r = upload(zip);
        BOOST_TEST(r.status == 422, code << ": " << r.body);
        BOOST_TEST(error_member(r.body, "code") == code);
    }
    auto empty = upload("");
    BOOST_TEST(empty.status == 422);
    BOOST_TEST(rows("uploads") == 0);
    BOOST_TEST(rows("blobs") == 0);
    BOOST_TEST(files("blobs").empty());
    BOOST_TEST(files("tmp").empty());
}

BOOST_AUTO_TEST_CASE(a_body_past_the_upload_cap_is_413_and_json_bodies_keep_their_own_cap) {
    // Refused from the headers alone, before any body byte is read.
    BOOST_TEST(claim("POST /v1/uploads", 2100000).status == 413);
    // (The guard allows at least DROVER_MAX_REQUEST_BYTES; the handler checks a part against its own cap.)
    BOOST_TEST(claim("PUT /v1/uploads/sessions/1/parts/1", 1100000).status == 413);
    BOOST_TEST(claim("POST /v1/jobs", 1100000).status == 413);  // DROVER_MAX_REQUEST_BYTES (1 MiB)
    // An upload over DROVER_MAX_REQUEST_BYTES but under DROVER_MAX_UPLOAD_BYTES is taken.
    auto zip = ZipBuilder().file("noise", noise(1500000)).bytes();
    auto r = upload(zip);
    BOOST_TEST(r.status == 201, r.body);
    BOOST_TEST(rows("uploads") == 1);
}

BOOST_AUTO_TEST_CASE(a_full_storage_evicts_what_it_may_and_an_upload_that_still_does_not_fit_is_507) {
    // 1.6 MB stored, unused: the next 1.6 MB upload (3.2 MB > 3,000,000) evicts it and fits.
    auto old = upload(ZipBuilder().file("a", noise(1600000)).bytes());
    BOOST_TEST_REQUIRE(old.status == 201, old.body);
    std::string old_sha = parse_json(old.body)["sha256"].GetString();
    auto second = upload(ZipBuilder().file("b", noise(1600000)).bytes());
    BOOST_TEST_REQUIRE(second.status == 201, second.body);
    BOOST_TEST(!std::filesystem::exists(storage / "blobs" / old_sha.substr(0, 2) / old_sha.substr(2, 2) / old_sha));
    BOOST_TEST(rows("uploads") == 1);
    // Whitelisted, the stored one is spared: the third does not fit, and leaves nothing.
    c.exec("UPDATE drover.uploads SET whitelisted = true");
    auto third = upload(ZipBuilder().file("c", noise(1600000)).bytes());
    BOOST_TEST(third.status == 507, third.body);
    BOOST_TEST(error_member(third.body, "code") == "storage_full");
    BOOST_TEST(rows("uploads") == 1);
    BOOST_TEST(rows("blobs") == 1);
    BOOST_TEST(files("blobs").size() == 1u);
    BOOST_TEST(files("tmp").empty());
}

// HEAD on a download route: the GET's headers (Content-Length, ETag), no
// body — the next answer on the connection follows the header block at once.
BOOST_AUTO_TEST_CASE(head_on_an_upload_s_content_answers_its_headers_without_the_body) {
    auto zip = ZipBuilder().file("a.txt", "some content").bytes();
    auto created = upload(zip);
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    std::string id = parse_json(created.body)["id"].GetString();
    e2e::RawConnection conn(stack.port());
    BOOST_REQUIRE(conn.send(e2e::request_bytes("HEAD", "/v1/uploads/" + id + "/content") +
                            e2e::request_bytes("GET", "/healthz", "", "Connection: close\r\n")));
    BOOST_TEST(conn.closed_by_peer(std::chrono::seconds(5)));
    const std::string& got = conn.unread();
    auto end = got.find("\r\n\r\n");
    BOOST_TEST_REQUIRE(end != std::string::npos, got);
    auto head = got.substr(0, end + 4);
    BOOST_TEST(head.starts_with("HTTP/1.1 200"), head);
    BOOST_TEST(head.find("Content-Length: " + std::to_string(zip.size()) + "\r\n") != std::string::npos, head);
    BOOST_TEST(head.find("ETag: \"" + sha256_hex(zip) + "\"") != std::string::npos, head);
    BOOST_TEST(got.substr(end + 4).starts_with("HTTP/1.1 200"), "after the HEAD answer: " << got.substr(end + 4, 40));
    BOOST_TEST(got.find(R"({"status":"ok"})") != std::string::npos);
    // Another app's key: the same 404 as GET.
    e2e::RawConnection other(stack.port());
    BOOST_REQUIRE(other.send("HEAD /v1/uploads/" + id + "/content HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                             other_key + "\r\nConnection: close\r\n\r\n"));
    BOOST_TEST(other.closed_by_peer(std::chrono::seconds(5)));
    BOOST_TEST(other.unread().starts_with("HTTP/1.1 404"), other.unread());
    BOOST_TEST(other.unread().ends_with("\r\n\r\n"), "a HEAD answer has no body");
}

BOOST_AUTO_TEST_CASE(a_parted_upload_is_assembled_checked_and_stored_like_one) {
    std::string text;
    while (text.size() < 250000) text += "line " + std::to_string(text.size()) + " of a large input file\n";
    auto zip = ZipBuilder().file("big.txt", text).file("small.txt", "s").bytes();  // stored: > 250 kB
    BOOST_TEST_REQUIRE(zip.size() > 200000u);

    auto created = test::http_request(stack.port(), "POST", "/v1/uploads/sessions");
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    std::string sid = parse_json(created.body)["id"].GetString();
    BOOST_TEST(parse_json(created.body)["max_part_bytes"].GetInt64() == 100000);
    const std::string base = "/v1/uploads/sessions/" + sid;

    // Parts of at most 100,000 bytes, sent out of order; one sent twice.
    std::vector<std::string> parts;
    for (std::size_t at = 0; at < zip.size(); at += 90000) parts.push_back(zip.substr(at, 90000));
    for (std::size_t i = parts.size(); i-- > 0;) {
        auto r = test::http_request(stack.port(), "PUT", base + "/parts/" + std::to_string(i + 1), parts[i],
                                    "application/octet-stream");
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        BOOST_TEST(parse_json(r.body)["sha256"].GetString() == sha256_hex(parts[i]));
    }
    BOOST_TEST(test::http_request(stack.port(), "PUT", base + "/parts/1", parts[0], "application/octet-stream").status ==
               200);
    // A part past the cap, another app's key, a session that does not exist.
    auto over = test::http_request(stack.port(), "PUT", base + "/parts/9", std::string(120000, 'x'), "application/zip");
    BOOST_TEST(over.status == 413, over.body);
    BOOST_TEST(error_member(over.body, "code") == "upload_too_large");
    BOOST_TEST(test::http_request_as(other_key, stack.port(), "PUT", base + "/parts/9", "x",
                                     "application/octet-stream").status == 404);
    BOOST_TEST(test::http_request_as(other_key, stack.port(), "GET", base).status == 404);
    BOOST_TEST(test::http_request_as(other_key, stack.port(), "POST", base + "/complete").status == 404);

    auto listed = test::http_request(stack.port(), "GET", base);
    BOOST_TEST_REQUIRE(listed.status == 200, listed.body);
    BOOST_TEST(parse_json(listed.body)["parts"].Size() == parts.size());
    BOOST_TEST(parse_json(listed.body)["size"].GetInt64() == static_cast<std::int64_t>(zip.size()));

    // A wrong sha256 is refused and the session stays; the right one completes it.
    auto wrong = test::http_request(stack.port(), "POST", base + "/complete",
                                    "{\"sha256\": \"" + std::string(64, '0') + "\"}");
    BOOST_TEST(wrong.status == 422, wrong.body);
    BOOST_TEST(error_member(wrong.body, "code") == "sha256_mismatch");
    BOOST_TEST(files("tmp").empty());
    auto done = test::http_request(stack.port(), "POST", base + "/complete",
                                   "{\"sha256\": \"" + sha256_hex(zip) + "\"}");
    BOOST_TEST_REQUIRE(done.status == 201, done.body);
    auto doc = parse_json(done.body);
    BOOST_TEST(doc["sha256"].GetString() == sha256_hex(zip));
    BOOST_TEST(doc["entries"].GetInt64() == 2);
    auto sha = sha256_hex(zip);
    BOOST_TEST(e2e::read_file(storage / "blobs" / sha.substr(0, 2) / sha.substr(2, 2) / sha) == zip);
    // The session, its parts and every temp file are gone.
    BOOST_TEST(rows("upload_sessions") == 0);
    BOOST_TEST(rows("upload_parts") == 0);
    BOOST_TEST(files("sessions").empty());
    BOOST_TEST(files("tmp").empty());
    BOOST_TEST(test::http_request(stack.port(), "GET", base).status == 404);
}

BOOST_AUTO_TEST_CASE(a_parted_upload_of_a_hostile_zip_leaves_nothing) {
    auto zip = ZipBuilder().file("ok", std::string(150000, 'o')).file("../../evil", "x").bytes();
    auto created = test::http_request(stack.port(), "POST", "/v1/uploads/sessions");
    std::string base = "/v1/uploads/sessions/" + std::string(parse_json(created.body)["id"].GetString());
    BOOST_TEST(test::http_request(stack.port(), "PUT", base + "/parts/1", zip.substr(0, 90000), "application/zip")
                   .status == 200);
    BOOST_TEST(test::http_request(stack.port(), "PUT", base + "/parts/2", zip.substr(90000), "application/zip")
                   .status == 200);
    auto r = test::http_request(stack.port(), "POST", base + "/complete");
    BOOST_TEST(r.status == 422, r.body);
    BOOST_TEST(error_member(r.body, "code") == "unsafe_path");
    BOOST_TEST(rows("uploads") == 0);
    BOOST_TEST(rows("blobs") == 0);
    BOOST_TEST(rows("upload_sessions") == 0);
    BOOST_TEST(files("blobs").empty());
    BOOST_TEST(files("sessions").empty());
    BOOST_TEST(files("tmp").empty());
    // A gap in the numbering is refused before anything is assembled.
    auto gap = test::http_request(stack.port(), "POST", "/v1/uploads/sessions");
    std::string gbase = "/v1/uploads/sessions/" + std::string(parse_json(gap.body)["id"].GetString());
    BOOST_TEST(test::http_request(stack.port(), "PUT", gbase + "/parts/2", "x", "application/zip").status == 200);
    auto missing = test::http_request(stack.port(), "POST", gbase + "/complete");
    BOOST_TEST(missing.status == 422);
    BOOST_TEST(error_member(missing.body, "code") == "missing_parts");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// The peak resident memory of a process so far, in KiB.
std::int64_t peak_rss_kib(pid_t pid) {
    for (const auto& line : e2e::read_lines("/proc/" + std::to_string(pid) + "/status")) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
    }
    return -1;
}

}  // namespace

// Its own stack (larger caps), in the same suite.
BOOST_AUTO_TEST_SUITE(uploads_e2etest)

BOOST_AUTO_TEST_CASE(completing_a_large_parted_upload_does_not_grow_the_api_by_the_file) {
    // 64 MiB in 2 MiB parts: the API holds a part or two per request, and
    // the completing zip check reads the assembled file a block at a time
    // (it once mapped it: VmRSS, hence VmHWM, grew by the file's size).
    test::DroverStack stack;
    stack.start_api({{"DROVER_MAX_UPLOAD_PART_BYTES", std::to_string(2 << 20)},
                     {"DROVER_MAX_PARTED_UPLOAD_BYTES", std::to_string(80 << 20)},
                     {"DROVER_MAX_UPLOAD_UNCOMPRESSED_BYTES", std::to_string(80 << 20)}});
    auto zip = ZipBuilder().file("big.bin", noise(64 << 20)).bytes();
    auto created = test::http_request(stack.port(), "POST", "/v1/uploads/sessions");
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    const std::string base = "/v1/uploads/sessions/" + std::string(parse_json(created.body)["id"].GetString());
    const std::size_t part = 2 << 20;
    std::int64_t before = -1;
    for (std::size_t at = 0, n = 1; at < zip.size(); at += part, ++n) {
        auto r = test::http_request(stack.port(), "PUT", base + "/parts/" + std::to_string(n), zip.substr(at, part),
                                    "application/octet-stream");
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        if (n == 2) before = peak_rss_kib(stack.api().pid());  // buffers of a part request already grown
    }
    auto done = test::http_request(stack.port(), "POST", base + "/complete",
                                   "{\"sha256\": \"" + sha256_hex(zip) + "\"}");
    BOOST_TEST_REQUIRE(done.status == 201, done.body);
    BOOST_TEST(parse_json(done.body)["sha256"].GetString() == sha256_hex(zip));
    auto after = peak_rss_kib(stack.api().pid());
    BOOST_TEST(before > 0);
#if !defined(__SANITIZE_ADDRESS__)
    BOOST_TEST(after - before < 24 * 1024, "peak RSS grew by " << (after - before) << " KiB");
#else
    // AddressSanitizer's quarantine keeps every freed buffer (256 MB): the
    // bound is the plain build's to check.
    BOOST_TEST_MESSAGE("peak RSS grew by " << (after - before) << " KiB (not bounded under AddressSanitizer)");
#endif
}

namespace {

// A part request's bytes, as a client writes them (the body may be cut off).
std::string part_request(const std::string& path, const std::string& body, std::size_t length,
                         const std::string& key = test::default_api_key, const std::string& extra = {}) {
    return "PUT " + path + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + key +
           "\r\nContent-Type: application/octet-stream\r\n" + extra + "Content-Length: " + std::to_string(length) +
           "\r\n\r\n" + body;
}

}  // namespace

// Bodies of upload routes from 256 KiB on are read by the request guard
// itself, in large reads straight into one buffer (Pistache reads 4 KiB at a
// time): each must arrive whole and in order however the client cuts it,
// with what follows it on the connection answered after it, and a refused or
// abandoned one must leave nothing.
BOOST_AUTO_TEST_CASE(large_part_bodies_read_by_the_guard_arrive_whole_and_leave_nothing_when_refused) {
    test::DroverStack stack;
    stack.start_api({{"DROVER_MAX_UPLOAD_PART_BYTES", std::to_string(2 << 20)},
                     {"DROVER_MAX_PARTED_UPLOAD_BYTES", std::to_string(8 << 20)}});
    auto c = stack.database().connect();
    auto storage = stack.dir() / "state" / "storage";
    auto temp_files = [&] {
        std::size_t n = 0;
        for (const auto& e : std::filesystem::recursive_directory_iterator(storage / "tmp")) n += e.is_regular_file();
        return n;
    };
    auto zip = ZipBuilder().file("a.bin", noise(3 << 20)).file("b.txt", "b").bytes();
    const std::size_t cut = 1800000;
    const std::string one = zip.substr(0, cut), two = zip.substr(cut);
    BOOST_TEST_REQUIRE(two.size() > (256u << 10));
    auto created = test::http_request(stack.port(), "POST", "/v1/uploads/sessions");
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    const std::string base = "/v1/uploads/sessions/" + std::string(parse_json(created.body)["id"].GetString());

    // Part 1 in uneven pieces with pauses, a GET pipelined right behind its
    // last byte: two answers, in order.
    {
        e2e::RawConnection conn(stack.port());
        auto bytes = part_request(base + "/parts/1", one, one.size()) + e2e::request_bytes("GET", "/healthz");
        std::size_t at = 0;
        for (std::size_t piece : {std::size_t{300}, std::size_t{70000}, std::size_t{1}, std::size_t{900000}}) {
            BOOST_REQUIRE(conn.send(bytes.substr(at, piece)));
            at += piece;
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
        BOOST_REQUIRE(conn.send(bytes.substr(at)));
        auto put = conn.read_response(std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(put.status == 200, put.body);
        BOOST_TEST(parse_json(put.body)["sha256"].GetString() == sha256_hex(one));
        BOOST_TEST(parse_json(put.body)["size"].GetInt64() == static_cast<std::int64_t>(one.size()));
        auto health = conn.read_response(std::chrono::seconds(5));
        BOOST_TEST(health.status == 200, health.body);
    }
    // Refused after the whole body arrived (a wrong key, a session that does
    // not exist): a JSON error, the connection kept, nothing stored.
    {
        e2e::RawConnection conn(stack.port());
        auto wrong_key = conn.request(part_request(base + "/parts/2", two, two.size(), "drv_0000000000000000_x"));
        BOOST_TEST(wrong_key.status == 401, wrong_key.body);
        auto no_session = conn.request(part_request("/v1/uploads/sessions/999999/parts/2", two, two.size()));
        BOOST_TEST(no_session.status == 404, no_session.body);
        BOOST_TEST(error_member(no_session.body, "code") == "not_found");
        // Another app's key on this very session: the same 404, nothing written.
        AppStore(c).create("intruder");
        auto intruder = KeyStore(c).create("intruder", Role::admin).plaintext;
        auto foreign = conn.request(part_request(base + "/parts/2", two, two.size(), intruder));
        BOOST_TEST(foreign.status == 404, foreign.body);
        BOOST_TEST(error_member(foreign.body, "code") == "not_found");
        BOOST_TEST(conn.request(e2e::request_bytes("GET", "/healthz")).status == 200);
    }
    // Abandoned halfway: the API goes on, nothing of it is stored.
    {
        e2e::RawConnection conn(stack.port());
        BOOST_REQUIRE(conn.send(part_request(base + "/parts/2", two.substr(0, two.size() / 2), two.size())));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_TEST(test::http_request(stack.port(), "GET", "/healthz").status == 200);
    // Claiming a large body costs nothing until it arrives: 30 connections
    // that announce 2 MiB parts and send none of it.
    {
        auto rss_kib = [&] {
            for (const auto& line : e2e::read_lines("/proc/" + std::to_string(stack.api().pid()) + "/status")) {
                if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
            }
            return -1LL;
        };
        auto before = rss_kib();
        std::vector<std::unique_ptr<e2e::RawConnection>> claims;
        for (int i = 0; i < 30; ++i) {
            claims.push_back(std::make_unique<e2e::RawConnection>(stack.port()));
            BOOST_REQUIRE(claims.back()->send(part_request(base + "/parts/2", "", 2 << 20)));
        }
        BOOST_TEST(test::http_request(stack.port(), "GET", "/healthz").status == 200);  // all 30 heads were read
        auto grown = rss_kib() - before;
#if !defined(__SANITIZE_ADDRESS__)
        BOOST_TEST(grown < 8 * 1024, "RSS grew by " << grown << " KiB for 60 MiB claimed and not sent");
#else
        BOOST_TEST_MESSAGE("RSS grew by " << grown << " KiB (not bounded under AddressSanitizer)");
#endif
    }
    // An empty part is refused (it once was stored, size 0).
    auto empty = test::http_request(stack.port(), "PUT", base + "/parts/2", "", "application/octet-stream");
    BOOST_TEST(empty.status == 422, empty.body);
    BOOST_TEST(error_member(empty.body, "code") == "empty_part");
    BOOST_TEST(scalar(c, "SELECT count(*) FROM drover.upload_parts") == 1);
    BOOST_TEST(temp_files() == 0u);
    // Expect: 100-continue: the go-ahead comes before the body is sent.
    {
        e2e::RawConnection conn(stack.port());
        BOOST_REQUIRE(conn.send(part_request(base + "/parts/2", "", two.size(), test::default_api_key,
                                             "Expect: 100-continue\r\n")));
        auto go_ahead = conn.read_response(std::chrono::seconds(5));
        BOOST_TEST(go_ahead.status == 100);
        BOOST_REQUIRE(conn.send(two));
        auto put = conn.read_response(std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(put.status == 200, put.body);
        BOOST_TEST(parse_json(put.body)["sha256"].GetString() == sha256_hex(two));
    }
    auto done = test::http_request(stack.port(), "POST", base + "/complete",
                                   "{\"sha256\": \"" + sha256_hex(zip) + "\"}");
    BOOST_TEST_REQUIRE(done.status == 201, done.body);
    auto sha = sha256_hex(zip);
    BOOST_TEST(e2e::read_file(storage / "blobs" / sha.substr(0, 2) / sha.substr(2, 2) / sha) == zip);
    BOOST_TEST(temp_files() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
