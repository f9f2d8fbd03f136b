// The zip attack corpus against core/archive/zip_check: each hostile archive
// is refused with its own code, by check_zip (nothing written) and by
// extract_zip (nothing left in the destination's folder).
#include "core/archive/zip_check.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "core/crypto.hpp"
#include "tests/support/zip_builder.hpp"

using namespace drover;
using drover::archive::ZipLimits;
using drover::archive::ZipRejected;
using drover::test::ZipBuilder;
using drover::test::ZipEntry;

namespace {

ZipLimits small_limits() {
    ZipLimits l;
    l.max_entries = 1000;
    l.max_uncompressed_bytes = 1 << 20;
    return l;
}

// The code check_zip refuses `zip` with ("" when it is accepted).
std::string refusal(const std::string& zip, const ZipLimits& limits = small_limits()) {
    try {
        archive::check_zip(zip, limits);
        return "";
    } catch (const ZipRejected& e) {
        BOOST_TEST_MESSAGE(e.code() << ": " << e.what());
        return e.code();
    }
}

struct Scratch {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("drover-zip-" + crypto::to_hex(crypto::random_bytes(6)));
    Scratch() { std::filesystem::create_directories(dir); }
    ~Scratch() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    std::filesystem::path write(const std::string& bytes) {
        auto p = dir / "in.zip";
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    }
    // Names in dir other than in.zip.
    std::vector<std::string> leftovers() const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            if (e.path().filename() != "in.zip") out.push_back(e.path().filename().string());
        }
        return out;
    }
};

ZipEntry special(std::string name, unsigned mode, std::string data = {}) {
    ZipEntry e;
    e.name = std::move(name);
    e.mode = mode;
    e.data = std::move(data);
    return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(zip_check_test)

BOOST_AUTO_TEST_CASE(accepts_files_and_folders_and_counts_what_it_read) {
    auto zip = ZipBuilder().dir("data/").file("data/a.txt", "hello").file("b.bin", std::string(5000, 'x'), true).bytes();
    auto s = archive::check_zip(zip, small_limits());
    BOOST_TEST(s.entries == 3u);
    BOOST_TEST(s.uncompressed_size == 5005u);
}

BOOST_AUTO_TEST_CASE(refuses_each_hostile_archive_with_its_code) {
    const std::vector<std::pair<std::string, std::string>> corpus = {
        {ZipBuilder().file("../evil", "x").bytes(), "unsafe_path"},
        {ZipBuilder().file("a/../../evil", "x").bytes(), "unsafe_path"},
        {ZipBuilder().file("/etc/evil", "x").bytes(), "unsafe_path"},
        {ZipBuilder().file("a\\..\\evil", "x").bytes(), "unsafe_path"},
        {ZipBuilder().file("C:evil", "x").bytes(), "unsafe_path"},
        {ZipBuilder().file("a//b", "x").bytes(), "unsafe_path"},
        {ZipBuilder().file("./a", "x").bytes(), "unsafe_path"},
        {ZipBuilder().file(std::string("ok\0/../../evil", 15), "x").bytes(), "invalid_name"},
        {ZipBuilder().file("bad\xff\xfename", "x").bytes(), "invalid_name"},
        {ZipBuilder().file("overlong\xc0\xaf", "x").bytes(), "invalid_name"},
        {ZipBuilder().add(special("link", S_IFLNK | 0777, "/etc/passwd")).bytes(), "unsupported_entry"},
        {ZipBuilder().add(special("link", S_IFLNK | 0777, "../../outside")).bytes(), "unsupported_entry"},
        {ZipBuilder().add(special("dev", S_IFCHR | 0644)).bytes(), "unsupported_entry"},
        {ZipBuilder().add(special("blk", S_IFBLK | 0644)).bytes(), "unsupported_entry"},
        {ZipBuilder().add(special("fifo", S_IFIFO | 0644)).bytes(), "unsupported_entry"},
        {"this is not a zip at all", "not_a_zip"},
        {"", "not_a_zip"},
    };
    int i = 0;
    for (const auto& [zip, code] : corpus) {
        BOOST_TEST_CONTEXT("corpus entry " << i++) { BOOST_TEST(refusal(zip) == code); }
    }
}

BOOST_AUTO_TEST_CASE(refuses_a_bomb_past_the_uncompressed_cap) {
    auto bomb = ZipBuilder().file("zeros", std::string(20 << 20, '\0'), true).bytes();
    BOOST_TEST(bomb.size() < 100000u);
    BOOST_TEST(refusal(bomb) == "too_large_uncompressed");
}

BOOST_AUTO_TEST_CASE(counts_real_bytes_when_headers_lie_about_sizes) {
    ZipEntry liar;
    liar.name = "liar";
    liar.data = std::string(20 << 20, '\0');
    liar.deflate = true;
    liar.declared_size = 10;  // says 10 bytes, inflates to 20 MiB
    auto code = refusal(ZipBuilder().add(liar).bytes());
    // Either the count stops it at the cap, or libarchive notices the lie first.
    BOOST_TEST((code == "too_large_uncompressed" || code == "corrupt_zip"), "refused as " << code);
}

BOOST_AUTO_TEST_CASE(refuses_too_many_entries_before_reading_them) {
    ZipBuilder many;
    for (int i = 0; i < 100000; ++i) many.file("e" + std::to_string(i), "");
    BOOST_TEST(refusal(many.bytes()) == "too_many_entries");
}

BOOST_AUTO_TEST_CASE(refuses_a_truncated_zip) {
    auto zip = ZipBuilder().file("a.txt", std::string(10000, 'a')).file("b.txt", "b").bytes();
    BOOST_TEST(refusal(zip.substr(0, zip.size() / 2)) == "not_a_zip");  // end of central directory cut off
    // Central directory intact, data cut short.
    auto cut = zip.substr(0, 100) + zip.substr(zip.size() - 200);
    BOOST_TEST(!refusal(cut).empty());
}

BOOST_AUTO_TEST_CASE(extraction_of_a_refused_zip_leaves_nothing) {
    const std::vector<std::string> corpus = {
        ZipBuilder().file("fine.txt", "x").file("../evil", "x").bytes(),
        ZipBuilder().file("fine.txt", "x").add(special("link", S_IFLNK | 0777, "/etc")).bytes(),
        ZipBuilder().file("fine.txt", "x").file("zeros", std::string(20 << 20, '\0'), true).bytes(),
        ZipBuilder().file("dup", "1").file("dup", "2").bytes(),
    };
    for (const auto& zip : corpus) {
        Scratch s;
        auto in = s.write(zip);
        BOOST_CHECK_THROW(archive::extract_zip(in, s.dir / "inbound", small_limits()), ZipRejected);
        BOOST_TEST(s.leftovers().empty());
    }
}

BOOST_AUTO_TEST_CASE(extracts_into_the_destination_only_when_complete) {
    Scratch s;
    auto in = s.write(ZipBuilder().dir("d/").file("d/a.txt", "alpha").file("b.txt", std::string(3000, 'b'), true).bytes());
    auto summary = archive::extract_zip(in, s.dir / "inbound", small_limits());
    BOOST_TEST(summary.entries == 3u);
    std::ifstream a(s.dir / "inbound/d/a.txt");
    std::string text((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
    BOOST_TEST(text == "alpha");
    BOOST_TEST(std::filesystem::file_size(s.dir / "inbound/b.txt") == 3000u);
    BOOST_TEST(s.leftovers() == std::vector<std::string>{"inbound"});
}

BOOST_AUTO_TEST_CASE(names_are_judged_component_by_component) {
    BOOST_TEST(archive::unsafe_name_reason("a/b/c.txt").empty());
    BOOST_TEST(archive::unsafe_name_reason("dir/").empty());
    BOOST_TEST(archive::unsafe_name_reason("café/ünï.txt").empty());
    BOOST_TEST(archive::unsafe_name_reason("a..b").empty());
    BOOST_TEST(!archive::unsafe_name_reason("..").empty());
    BOOST_TEST(!archive::unsafe_name_reason("a/./b").empty());
    BOOST_TEST(!archive::unsafe_name_reason("").empty());
}

BOOST_AUTO_TEST_SUITE_END()
