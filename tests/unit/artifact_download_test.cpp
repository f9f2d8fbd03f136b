// The download side of drover artifacts / submit --download, without an API:
// which artifact names may be written under a folder, and that a listing
// with one name that would leave the folder writes nothing at all (the API
// never lists such a name; a hostile or broken server might).
#include "cli/artifact_download.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "cli/zip_folder.hpp"
#include "core/error.hpp"

using namespace drover;
using namespace drover::cli;
namespace fs = std::filesystem;

namespace {

struct TempFolder {
    fs::path path;
    TempFolder() {
        char p[] = "/tmp/drover-unit-XXXXXX";
        path = ::mkdtemp(p);
    }
    ~TempFolder() { fs::remove_all(path); }
};

Artifact named(const std::string& name) {
    return {name, 3, std::string(64, 'a')};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(artifact_download_test)

BOOST_AUTO_TEST_CASE(names_that_would_leave_the_folder_are_refused) {
    for (const std::string& bad :
         std::vector<std::string>{"../x", "a/../../x", "/etc/passwd", "..", ".", "a/./b", "", "a//b", "a\\b", "c:x",
                                  "dir/", std::string("a\0b", 3), "\xff\xfe"}) {
        BOOST_TEST(!artifact_name_problem(bad).empty(), "accepted: " << bad);
    }
    for (const std::string& good :
         std::vector<std::string>{"out.txt", "sub/data.bin", "name with spaces", "..hidden", "a..b", "ünïcode.txt"}) {
        BOOST_TEST(artifact_name_problem(good).empty(), good << ": " << artifact_name_problem(good));
    }
}

BOOST_AUTO_TEST_CASE(one_bad_name_in_a_listing_writes_nothing) {
    TempFolder dir;
    fs::path target = dir.path / "downloads";
    // Nothing listens on port 1: had a download been tried, it would fail as Unreachable, not as DownloadError.
    Target nowhere{"http://127.0.0.1:1", "key"};
    std::vector<Artifact> listing = {named("fine.txt"), named("../escaped.txt")};
    BOOST_CHECK_THROW(download_artifacts(nowhere, "1", listing, target.string(), false), DownloadError);
    BOOST_TEST(!fs::exists(target));
    BOOST_TEST(!fs::exists(dir.path / "escaped.txt"));
}

BOOST_AUTO_TEST_CASE(a_listing_must_carry_name_size_and_sha256) {
    BOOST_TEST(parse_artifact_list(R"({"artifacts": []})").empty());
    auto list = parse_artifact_list(R"({"artifacts": [{"name": "../x", "size": 3, "sha256": "ab"}]})");
    BOOST_TEST(list.at(0).name == "../x");
    BOOST_CHECK_THROW(parse_artifact_list(R"({"artifacts": [{"name": "x"}]})"), DownloadError);
    BOOST_CHECK_THROW(parse_artifact_list(R"({"jobs": []})"), DownloadError);
    BOOST_CHECK_THROW(parse_artifact_list(R"({"artifacts": [{"name": "x", "size": -1, "sha256": "ab"}]})"),
                      DownloadError);
}

BOOST_AUTO_TEST_CASE(a_folder_name_the_api_would_refuse_stops_the_zip) {
    TempFolder dir;
    fs::create_directories(dir.path / "in");
    std::ofstream(dir.path / "in" / "a:b.txt") << "colon";
    BOOST_CHECK_THROW(zip_folder(dir.path / "in", dir.path / "out.zip"), ConfigError);
    BOOST_CHECK_THROW(zip_folder(dir.path / "missing", dir.path / "out2.zip"), ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
