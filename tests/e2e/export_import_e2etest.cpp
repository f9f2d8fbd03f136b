// `drover export` / `drover import`: upload records and their files move
// between two installations (two databases, two storage roots) as one
// archive, sha256s intact and equal content stored once; a damaged or hostile
// archive is refused and leaves no record and no file behind.
#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>

#include "core/crypto.hpp"
#include "core/store/app_store.hpp"
#include "core/store/upload_store.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;
using namespace std::chrono_literals;
using drover::e2e::scalar;

namespace {

struct Installation {
    test::TestDatabase database;
    e2e::TempDir dir;
    db::Connection conn = database.connect();
    std::filesystem::path root = dir.path() / "storage";
    storage::BlobStore blobs{root};

    Installation() { AppStore(conn).create("other"); }

    // Runs drover with this installation's database and storage; returns its exit status and output.
    std::pair<int, std::string> drover(const std::vector<std::string>& args) {
        test::Process cli(test::binary_path("drover"), args,
                          {{"DROVER_DATABASE_URL", database.url()},
                           {"DROVER_STORAGE_DIR", root.string()},
                           {"DROVER_LOG_LEVEL", "warn"}});
        auto status = cli.wait_exit(60s);
        return {status.value_or(-1), cli.output()};
    }
    Upload upload(const std::string& app, const std::string& bytes) {
        return UploadStore(conn, blobs).store(NewUpload{app, "application/zip", 2, 7}, storage::sha256_hex(bytes), bytes,
                                              0);
    }
    // Every file under the storage root (blobs and temporaries), by path.
    std::vector<std::string> files() {
        std::vector<std::string> out;
        for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
            if (e.is_regular_file()) out.push_back(std::filesystem::relative(e.path(), root).string());
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    // The records as text, ids left out, for comparing two installations.
    std::string records() {
        return e2e::text_value(conn, "SELECT coalesce(string_agg(concat_ws('|', app, sha256, size, media_type, entries, "
                                     "uncompressed_size, created_at, last_used_at, whitelisted, protected, expires_at), "
                                     "E'\\n' ORDER BY created_at, app), '') FROM drover.uploads");
    }
};

std::string sha256_hex(const std::string& s) { return crypto::to_hex(crypto::sha256(s)); }

// A tar with these entries, as libarchive writes it (what `drover export` writes).
std::string tar(const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string out;
    auto* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* o, const void* b, size_t n) -> la_ssize_t {
            static_cast<std::string*>(o)->append(static_cast<const char*>(b), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto& [name, bytes] : entries) {
        auto* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
        archive_write_header(a, e);
        archive_write_data(a, bytes.data(), bytes.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

// A manifest for records of app "other" naming these contents (one record each).
std::string manifest(const std::vector<std::string>& contents, const std::string& sha_override = {}) {
    std::string uploads, blobs;
    for (std::size_t i = 0; i < contents.size(); ++i) {
        auto sha = i == 0 && !sha_override.empty() ? sha_override : sha256_hex(contents[i]);
        auto size = std::to_string(contents[i].size());
        if (i) uploads += ",", blobs += ",";
        uploads += R"({"id": "1", "app": "other", "sha256": ")" + sha + R"(", "size": )" + size +
                   R"(, "media_type": "application/zip", "entries": 1, "uncompressed_size": 1, "created_at": )"
                   R"("2026-01-01T00:00:0)" + std::to_string(i) + R"(Z", "last_used_at": "2026-01-02T00:00:00Z", )"
                   R"("whitelisted": false, "protected": false, "expires_at": null})";
        blobs += R"({"sha256": ")" + sha + R"(", "size": )" + size + "}";
    }
    return R"({"format": "drover-export", "version": 1, "uploads": [)" + uploads + R"(], "blobs": [)" + blobs + "]}";
}

void write(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(export_import_e2etest)

BOOST_AUTO_TEST_CASE(a_round_trip_keeps_every_record_and_byte_and_stores_equal_content_once) {
    Installation a, b;
    std::string x = crypto::random_bytes(300000), y = crypto::random_bytes(5);
    auto u1 = a.upload("default", x);
    a.upload("other", x);  // the same content, another app's record
    auto u3 = a.upload("default", y);
    a.upload("default", std::string());  // empty content
    a.conn.exec("UPDATE drover.uploads SET whitelisted = true, protected = true WHERE id = " + std::to_string(u1.id));
    a.conn.exec("UPDATE drover.uploads SET expires_at = now() + interval '1 day' WHERE id = " + std::to_string(u3.id));
    auto archive = a.dir.path() / "uploads.tar";

    auto [status, out] = a.drover({"export", archive.string()});
    BOOST_TEST_REQUIRE(status == 0, out);
    auto summary = e2e::parse_json(out);
    BOOST_TEST(summary["uploads"].GetInt64() == 4);
    BOOST_TEST(summary["blobs"].GetInt64() == 3);
    BOOST_TEST(!std::filesystem::exists(archive.string() + ".partial"));

    auto [istatus, iout] = b.drover({"import", archive.string()});
    BOOST_TEST_REQUIRE(istatus == 0, iout);
    auto imported = e2e::parse_json(iout);
    BOOST_TEST(imported["uploads"].GetInt64() == 4);
    BOOST_TEST(imported["blobs_new"].GetInt64() == 3);
    BOOST_TEST(b.records() == a.records());
    BOOST_TEST(b.files() == a.files());
    for (const auto& f : b.files()) {
        auto name = std::filesystem::path(f).filename().string();
        BOOST_TEST(sha256_hex(e2e::read_file(b.root / f)) == name, f);
    }
    BOOST_TEST(scalar(b.conn, "SELECT count(*) FROM drover.blobs") == 3);

    // Imported again: nothing new, nothing doubled.
    auto [again_status, again] = b.drover({"import", archive.string()});
    BOOST_TEST_REQUIRE(again_status == 0, again);
    BOOST_TEST(e2e::parse_json(again)["uploads"].GetInt64() == 0);
    BOOST_TEST(e2e::parse_json(again)["uploads_skipped"].GetInt64() == 4);
    BOOST_TEST(scalar(b.conn, "SELECT count(*) FROM drover.uploads") == 4);

    // Only the whitelisted (and protected) ones.
    auto [wstatus, wout] = a.drover({"export", archive.string(), "--whitelisted-only"});
    BOOST_TEST_REQUIRE(wstatus == 0, wout);
    BOOST_TEST(e2e::parse_json(wout)["uploads"].GetInt64() == 1);
    BOOST_TEST(e2e::parse_json(wout)["blobs"].GetInt64() == 1);

    // An installation without the app: refused, nothing imported.
    Installation c;
    c.conn.exec("DELETE FROM drover.apps WHERE name = 'other'");
    auto [cstatus, cout_] = c.drover({"export", archive.string()});  // c has nothing: an empty archive
    BOOST_TEST(cstatus == 0, cout_);
    a.drover({"export", archive.string()});
    auto [rstatus, rout] = c.drover({"import", archive.string()});
    BOOST_TEST(rstatus == 1);
    BOOST_TEST(rout.find("\"other\"") != std::string::npos, rout);
    BOOST_TEST(scalar(c.conn, "SELECT count(*) FROM drover.uploads") == 0);
    BOOST_TEST(c.files().empty());
    BOOST_TEST(a.drover({"import"}).first == 2);
}

BOOST_AUTO_TEST_CASE(a_damaged_or_hostile_archive_is_refused_and_leaves_nothing) {
    Installation src;
    std::string x = crypto::random_bytes(200000), y = crypto::random_bytes(70000);
    src.upload("other", x);
    src.upload("other", y);
    auto good_path = src.dir.path() / "good.tar";
    BOOST_TEST_REQUIRE(src.drover({"export", good_path.string()}).first == 0);
    auto good = e2e::read_file(good_path);

    auto m = manifest({x, y});
    auto end = [](const std::string& manifest_text) { return sha256_hex(manifest_text) + "\n"; };
    std::string y_other = y;
    y_other[100] ^= 1;
    std::string hostile = manifest({x}) ;
    std::vector<std::pair<std::string, std::string>> cases = {
        {"cut in the middle of a file", good.substr(0, good.size() / 2)},
        {"cut at an entry boundary (no end entry)", tar({{"drover-export.json", m}, {"blobs/" + sha256_hex(x), x},
                                                         {"blobs/" + sha256_hex(y), y}})},
        {"empty", ""},
        {"not a tar", "PK\x03\x04 this is no tar at all"},
        {"manifest not JSON", tar({{"drover-export.json", "{\"format\": "}})},
        {"manifest of another format", tar({{"drover-export.json", R"({"format": "zip", "version": 1})"}})},
        {"second file's sha256 wrong (after a good first one)",
         tar({{"drover-export.json", m}, {"blobs/" + sha256_hex(x), x}, {"blobs/" + sha256_hex(y), y_other},
              {"drover-export.end", end(m)}})},
        {"a file shorter than listed",
         tar({{"drover-export.json", m}, {"blobs/" + sha256_hex(x), x}, {"blobs/" + sha256_hex(y), y.substr(1)},
              {"drover-export.end", end(m)}})},
        {"duplicate entry",
         tar({{"drover-export.json", m}, {"blobs/" + sha256_hex(x), x}, {"blobs/" + sha256_hex(x), x},
              {"blobs/" + sha256_hex(y), y}, {"drover-export.end", end(m)}})},
        {"a listed file missing",
         tar({{"drover-export.json", m}, {"blobs/" + sha256_hex(x), x}, {"drover-export.end", end(m)}})},
        {"dot-dot name", tar({{"drover-export.json", hostile}, {"blobs/../../../tmp/evil", x}})},
        {"absolute name", tar({{"drover-export.json", hostile}, {"/tmp/evil", x}})},
        {"manifest not first", tar({{"blobs/" + sha256_hex(x), x}, {"drover-export.json", hostile}})},
        {"end entry does not match", tar({{"drover-export.json", m}, {"blobs/" + sha256_hex(x), x},
                                          {"blobs/" + sha256_hex(y), y}, {"drover-export.end", end(m + " ")}})},
        {"a record's time is no time",
         tar({{"drover-export.json", manifest({x}).replace(manifest({x}).find("2026-01-01"), 10, "2026-13-45")},
              {"blobs/" + sha256_hex(x), x},
              {"drover-export.end",
               end(manifest({x}).replace(manifest({x}).find("2026-01-01"), 10, "2026-13-45"))}})},
    };
    // The hand-made archive is right when nothing is damaged: the cases above fail for their fault.
    Installation dst;
    auto control = dst.dir.path() / "control.tar";
    write(control, tar({{"drover-export.json", m}, {"blobs/" + sha256_hex(x), x}, {"blobs/" + sha256_hex(y), y},
                        {"drover-export.end", end(m)}}));
    for (const auto& [what, bytes] : cases) {
        auto path = dst.dir.path() / "bad.tar";
        write(path, bytes);
        auto [status, out] = dst.drover({"import", path.string()});
        BOOST_TEST(status == 1, what << ": " << out);
        BOOST_TEST(scalar(dst.conn, "SELECT count(*) FROM drover.uploads") == 0, what);
        BOOST_TEST(scalar(dst.conn, "SELECT count(*) FROM drover.blobs") == 0, what);
        BOOST_TEST(dst.files().empty(), what);
        BOOST_TEST(!std::filesystem::exists("/tmp/evil"), what);
    }
    auto [status, out] = dst.drover({"import", control.string()});
    BOOST_TEST(status == 0, out);
    BOOST_TEST(scalar(dst.conn, "SELECT count(*) FROM drover.uploads") == 2);
    BOOST_TEST(dst.files().size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
