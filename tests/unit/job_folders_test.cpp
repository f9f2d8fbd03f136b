// Attempt folders (JobFolder) and a worker's folder with its lock
// (JobFolders): fresh 0700 folders removed whatever their job left, and the
// sweep that removes the folders of dead workers only.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "worker/executors/job_folder.hpp"

using namespace drover::worker;
namespace fs = std::filesystem;

namespace {

struct TempRoot {
    fs::path path;
    TempRoot() {
        char tmpl[] = "/tmp/drover-job-folders-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempRoot() { remove_tree(path); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(job_folders_test)

BOOST_AUTO_TEST_CASE(an_attempt_folder_is_fresh_private_and_gone_afterwards) {
    TempRoot root;
    fs::path dir = root.path / "7-1";
    {
        JobFolder folder(dir, R"({"a": 1})", std::nullopt);
        BOOST_TEST(folder.fd() >= 0);
        BOOST_TEST(((fs::status(dir).permissions() & fs::perms::all) == fs::perms::owner_all));
        std::ifstream args(dir / "args.json");
        std::string text((std::istreambuf_iterator<char>(args)), std::istreambuf_iterator<char>());
        BOOST_TEST(text == R"({"a": 1})");
        BOOST_TEST(fs::is_empty(dir / "inbound"));
        BOOST_TEST(fs::is_empty(dir / "outbound"));
        // What a job might leave: files, a link out, a folder without permissions.
        std::ofstream(dir / "litter") << "x";
        fs::create_directory_symlink(root.path, dir / "outbound" / "link");
        fs::create_directories(dir / "inbound" / "locked" / "deep");
        ::chmod((dir / "inbound" / "locked").c_str(), 0);
    }
    BOOST_TEST(!fs::exists(dir));
    BOOST_TEST(fs::exists(root.path));  // the link was removed, not followed
}

BOOST_AUTO_TEST_CASE(an_untouched_folder_goes_and_so_does_one_the_job_rearranged) {
    TempRoot root;
    { JobFolder untouched(root.path / "1-1", "{}", std::nullopt); }
    BOOST_TEST(!fs::exists(root.path / "1-1"));
    {
        // Removed entry by entry until one is not what the attempt started
        // with; the tree walk takes the rest. A link is removed, not followed.
        JobFolder folder(root.path / "2-1", "{}", std::nullopt);
        fs::remove(root.path / "2-1" / "args.json");
        fs::create_directory(root.path / "2-1" / "args.json");
        fs::remove(root.path / "2-1" / "outbound");
        fs::create_directory_symlink(root.path, root.path / "2-1" / "outbound");
    }
    BOOST_TEST(!fs::exists(root.path / "2-1"));
    BOOST_TEST(fs::exists(root.path));
}

BOOST_AUTO_TEST_CASE(remove_empty_outbound_removes_only_an_empty_folder) {
    TempRoot root;
    {
        JobFolder empty(root.path / "1-1", "{}", std::nullopt);
        BOOST_TEST(empty.remove_empty_outbound());
        BOOST_TEST(!fs::exists(root.path / "1-1" / "outbound"));
        BOOST_TEST(empty.remove_empty_outbound());  // asked again: still gone
    }
    BOOST_TEST(!fs::exists(root.path / "1-1"));
    {
        JobFolder full(root.path / "2-1", "{}", std::nullopt);
        std::ofstream(root.path / "2-1" / "outbound" / "out.txt") << "x";
        BOOST_TEST(!full.remove_empty_outbound());
        BOOST_TEST(fs::exists(root.path / "2-1" / "outbound" / "out.txt"));
    }
    BOOST_TEST(!fs::exists(root.path / "2-1"));
    {
        // A link to an empty folder is not an empty outbound/ (and is not followed).
        fs::create_directory(root.path / "elsewhere");
        JobFolder linked(root.path / "3-1", "{}", std::nullopt);
        fs::remove(root.path / "3-1" / "outbound");
        fs::create_directory_symlink(root.path / "elsewhere", root.path / "3-1" / "outbound");
        BOOST_TEST(!linked.remove_empty_outbound());
    }
    BOOST_TEST(!fs::exists(root.path / "3-1"));
    BOOST_TEST(fs::exists(root.path / "elsewhere"));
}

BOOST_AUTO_TEST_CASE(a_leftover_of_the_same_name_is_replaced) {
    TempRoot root;
    fs::create_directories(root.path / "7-1" / "old");
    JobFolder folder(root.path / "7-1", "{}", std::nullopt);
    BOOST_TEST(!fs::exists(root.path / "7-1" / "old"));
}

BOOST_AUTO_TEST_CASE(remove_orphans_removes_dead_workers_folders_only) {
    TempRoot root;
    JobFolders me(root.path, "host:1:aaaa");
    JobFolders alive(root.path, "host:2:bbbb");  // another live worker (its lock is held)
    BOOST_TEST(me.dir() == root.path / "host_1_aaaa");
    // A dead worker: its folder and lock file, nobody holding the lock.
    fs::create_directories(root.path / "host_3_cccc" / "9-2" / "inbound");
    std::ofstream(root.path / "host_3_cccc.lock") << "";
    // An older version's slot folder (no lock file), long untouched.
    fs::create_directories(root.path / "w123.0-slot0");
    fs::last_write_time(root.path / "w123.0-slot0", fs::file_time_type::clock::now() - std::chrono::minutes(5));
    // A lock-less folder just made: left alone.
    fs::create_directories(root.path / "young");
    fs::create_directories(me.dir() / "1-1");

    BOOST_TEST(me.remove_orphans() == 2);
    BOOST_TEST(!fs::exists(root.path / "host_3_cccc"));
    BOOST_TEST(!fs::exists(root.path / "host_3_cccc.lock"));
    BOOST_TEST(!fs::exists(root.path / "w123.0-slot0"));
    BOOST_TEST(fs::exists(root.path / "young"));
    BOOST_TEST(fs::exists(me.dir() / "1-1"));
    BOOST_TEST(fs::exists(alive.dir()));
    BOOST_TEST(me.remove_orphans() == 0);  // a second run is harmless
}

BOOST_AUTO_TEST_CASE(a_worker_removes_its_folder_and_lock_when_it_ends) {
    TempRoot root;
    {
        JobFolders me(root.path, "w");
        fs::create_directories(me.dir() / "3-1");
    }
    BOOST_TEST(fs::is_empty(root.path));
}

BOOST_AUTO_TEST_CASE(worker_ids_become_safe_folder_names) {
    BOOST_TEST(JobFolders::key_of("vm:123:abcd") == "vm_123_abcd");
    BOOST_TEST(JobFolders::key_of("../x") == "_.._x");
    BOOST_TEST(JobFolders::key_of(".hidden") == "_.hidden");
    BOOST_TEST(JobFolders::key_of("") == "_");
}

BOOST_AUTO_TEST_SUITE_END()
