// Where a parted upload's parts go (core/store/upload_session_store.hpp):
// parts sent in order into the session's data file at their offsets, a part
// sent out of order or again into a file of its own; what completing reads
// is exactly the parts, in order, whatever the mix, and bytes a crashed
// attempt left in the data file are never part of it.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/store/upload_session_store.hpp"
#include "core/store/upload_store.hpp"
#include "tests/support/test_database.hpp"

using namespace drover;

namespace {

struct Fixture {
    test::TestDatabase database;
    db::Connection conn = database.connect();
    std::filesystem::path root =
        std::filesystem::temp_directory_path() / ("drover-parts-" + crypto::to_hex(crypto::random_bytes(6)));
    storage::BlobStore blobs{root};
    UploadSessionStore sessions{conn, blobs};
    std::int64_t id = sessions.create("default", 3600).id;

    ~Fixture() {
        std::error_code ignored;
        std::filesystem::remove_all(root, ignored);
    }
    UploadPart put(std::int64_t n, const std::string& bytes, const std::string& sha256 = "") {
        auto part = sessions.put_part(id, "default", n, bytes, sha256, 1 << 20);
        BOOST_TEST_REQUIRE(part.has_value());
        return *part;
    }
    UploadSession session() { return *sessions.get(id, "default"); }
    std::string read(const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    std::string assembled() {
        storage::TempFile file(blobs.temp_dir());
        sessions.assemble(session(), file);
        file.finish();
        return read(file.path());
    }
    // A part's offset in the data file, -1 when it is in a file of its own.
    static std::int64_t at(const UploadPart& p) { return p.data_offset.value_or(-1); }
    std::filesystem::path own_file(int n) { return sessions.folder(id) / std::to_string(n); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(upload_parts_pgtest, Fixture)

BOOST_AUTO_TEST_CASE(parts_sent_in_order_are_one_file_that_completing_moves_into_place) {
    auto p1 = put(1, "first ");
    auto p2 = put(2, "second ");
    auto p3 = put(3, "third");
    BOOST_TEST(at(p1) == 0);
    BOOST_TEST(at(p2) == 6);
    BOOST_TEST(at(p3) == 13);
    BOOST_TEST(p2.sha256 == storage::sha256_hex("second "));
    BOOST_TEST(!std::filesystem::exists(own_file(1)));
    auto in_place = sessions.assembled_in_place(session());
    BOOST_TEST_REQUIRE(in_place.has_value());
    BOOST_TEST(read(*in_place) == "first second third");
    BOOST_TEST(assembled() == "first second third");
}

BOOST_AUTO_TEST_CASE(a_hash_given_by_the_caller_is_the_one_recorded) {
    // The request guard hashes a large body as it arrives; the store does
    // not hash it again.
    auto given = std::string(64, 'a');
    BOOST_TEST(put(1, "bytes", given).sha256 == given);
}

BOOST_AUTO_TEST_CASE(parts_out_of_order_or_sent_again_get_files_of_their_own_and_complete_the_same) {
    put(2, "BB");
    put(1, "A");
    put(3, "CCC");
    auto s = session();
    BOOST_TEST(at(s.parts[0]) == 0);  // 1: in order from the start
    BOOST_TEST(at(s.parts[1]) == -1);                        // 2: came first
    BOOST_TEST(at(s.parts[2]) == -1);                        // 3: after a part of its own
    BOOST_TEST(read(own_file(2)) == "BB");
    BOOST_TEST(!sessions.assembled_in_place(s).has_value());
    BOOST_TEST(assembled() == "ABBCCC");

    // Part 1 sent again, longer: its own file now; the data file's old copy is never read.
    put(1, "alpha");
    BOOST_TEST(at(session().parts[0]) == -1);
    BOOST_TEST(assembled() == "alphaBBCCC");
}

BOOST_AUTO_TEST_CASE(a_part_sent_again_after_in_order_parts_is_read_from_its_own_file) {
    put(1, "one.");
    put(2, "two.");
    put(1, "ONE.");  // same size, new bytes: still its own file, the data file untouched
    auto s = session();
    BOOST_TEST(at(s.parts[0]) == -1);
    BOOST_TEST(at(s.parts[1]) == 4);
    BOOST_TEST(!sessions.assembled_in_place(s).has_value());
    BOOST_TEST(assembled() == "ONE.two.");
}

BOOST_AUTO_TEST_CASE(bytes_an_attempt_left_without_its_row_are_never_part_of_the_upload) {
    put(1, "keep ");
    // What a part's write leaves when the process dies before its row commits.
    {
        std::ofstream junk(sessions.folder(id) / "data", std::ios::binary | std::ios::app);
        junk << "JUNK-FROM-A-CRASHED-ATTEMPT";
    }
    {
        std::ofstream junk(own_file(2), std::ios::binary);
        junk << "junk own file";
    }
    auto in_place = sessions.assembled_in_place(session());
    BOOST_TEST_REQUIRE(in_place.has_value());
    BOOST_TEST(read(*in_place) == "keep ");  // cut back to the parts' total
    BOOST_TEST(std::filesystem::file_size(*in_place) == 5u);

    {
        std::ofstream junk(sessions.folder(id) / "data", std::ios::binary | std::ios::app);
        junk << "MORE JUNK, LONGER THAN THE NEXT PART";
    }
    put(2, "this");  // in place at offset 5, the junk overwritten and cut
    BOOST_TEST(at(session().parts[1]) == 5);
    BOOST_TEST(read(sessions.folder(id) / "data") == "keep this");
    BOOST_TEST(assembled() == "keep this");
}

BOOST_AUTO_TEST_CASE(gaps_and_missing_data_are_refused_not_papered_over) {
    put(1, "a");
    put(3, "c");
    BOOST_CHECK_THROW(sessions.assembled_in_place(session()), InputError);
    put(2, "b");
    BOOST_TEST(assembled() == "abc");
    // A data file shorter than its parts (damaged storage) is an error, never a short upload.
    std::filesystem::resize_file(sessions.folder(id) / "data", 0);
    auto s = session();
    BOOST_CHECK_THROW(assembled(), Error);
}

BOOST_AUTO_TEST_CASE(a_part_waits_while_its_session_is_being_completed) {
    // complete reads the data file, then moves it into place: a part written
    // meanwhile (the next one in order goes into that file) would change
    // what was hashed. It waits for the completion's lock instead.
    put(1, "first ");
    std::atomic<bool> written{false};
    std::thread writer;
    {
        auto lock = sessions.lock_files(id);
        writer = std::thread([&] {
            auto other = database.connect();
            UploadSessionStore(other, blobs).put_part(id, "default", 2, "second", "", 1 << 20);
            written = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        BOOST_TEST(!written.load(), "the part was written while the session was being completed");
        BOOST_TEST(read(sessions.folder(id) / "data") == "first ");
    }
    writer.join();
    BOOST_TEST(written.load());
    BOOST_TEST(read(sessions.folder(id) / "data") == "first second");
    // Another session is not held up by this one's lock.
    auto lock = sessions.lock_files(id);
    auto other_id = sessions.create("default", 3600).id;
    BOOST_TEST(sessions.put_part(other_id, "default", 1, "x", "", 1 << 20).has_value());
}

BOOST_AUTO_TEST_CASE(completing_links_the_data_file_so_a_failed_commit_leaves_the_session_whole) {
    put(1, "whole ");
    put(2, "content");
    auto data = *sessions.assembled_in_place(session());
    const auto sha = storage::sha256_hex("whole content");
    NewUpload upload{"default", "application/zip", 1, 13};
    // Fails inside the storing transaction, after the blob is linked and the
    // upload row inserted (where a crash or a lost connection would hit).
    BOOST_CHECK_THROW(UploadStore(conn, blobs).store(upload, sha, data, 13, 0, [] { throw Error("boom"); }), Error);
    BOOST_TEST(!std::filesystem::exists(blobs.path_of(sha)));  // the link it made is gone
    BOOST_TEST(read(data) == "whole content");                    // the session's file is not
    BOOST_TEST(session().parts.size() == 2u);
    // Completed for real: the rows go with the upload's commit, the blob holds the bytes.
    auto stored = UploadStore(conn, blobs).store(upload, sha, data, 13, 0, [&] { sessions.forget(id); });
    BOOST_TEST(stored.sha256 == sha);
    BOOST_TEST(!sessions.get(id, "default").has_value());
    sessions.remove_files(id);
    BOOST_TEST(!std::filesystem::exists(sessions.folder(id)));
    BOOST_TEST(read(blobs.path_of(sha)) == "whole content");
}

BOOST_AUTO_TEST_SUITE_END()
