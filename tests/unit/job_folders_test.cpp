// Attempt folders (JobFolder) and a worker's folder with its lock
// (JobFolders): fresh 0700 folders removed whatever their job left, and the
// sweep that removes the folders of dead workers only.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <vector>

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

BOOST_AUTO_TEST_CASE(outbound_is_empty_removes_only_an_empty_folder) {
    TempRoot root;
    {
        JobFolder empty(root.path / "1-1", "{}", std::nullopt);
        BOOST_TEST(empty.outbound_is_empty());
        BOOST_TEST(!fs::exists(root.path / "1-1" / "outbound"));
        BOOST_TEST(empty.outbound_is_empty());  // asked again: still gone
    }
    BOOST_TEST(!fs::exists(root.path / "1-1"));
    {
        JobFolder full(root.path / "2-1", "{}", std::nullopt);
        std::ofstream(root.path / "2-1" / "outbound" / "out.txt") << "x";
        BOOST_TEST(!full.outbound_is_empty());
        BOOST_TEST(fs::exists(root.path / "2-1" / "outbound" / "out.txt"));
    }
    BOOST_TEST(!fs::exists(root.path / "2-1"));
    {
        // A link to an empty folder is not an empty outbound/ (and is not followed).
        fs::create_directory(root.path / "elsewhere");
        JobFolder linked(root.path / "3-1", "{}", std::nullopt);
        fs::remove(root.path / "3-1" / "outbound");
        fs::create_directory_symlink(root.path / "elsewhere", root.path / "3-1" / "outbound");
        BOOST_TEST(!linked.outbound_is_empty());
    }
    BOOST_TEST(!fs::exists(root.path / "3-1"));
    BOOST_TEST(fs::exists(root.path / "elsewhere"));
}

namespace {

ino_t inode_of(const fs::path& p) {
    struct stat st {};
    BOOST_REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_ino;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_untouched_folder_is_handed_to_the_next_attempt_with_its_args_only) {
    TempRoot root;
    SpareFolders spares(root.path);
    ino_t first_inode = 0;
    {
        JobFolder first(root.path / "1-1", R"({"a": "a long argument, longer than the next"})", std::nullopt, &spares);
        first_inode = inode_of(root.path / "1-1");
        BOOST_TEST(first.outbound_is_empty());
        BOOST_TEST(fs::is_directory(root.path / "1-1" / "outbound"));  // checked, not removed: it goes on
        BOOST_TEST(first.untouched());
    }
    BOOST_TEST(!fs::exists(root.path / "1-1"));
    BOOST_TEST(spares.size() == 1u);
    {
        JobFolder second(root.path / "2-1", "{}", std::nullopt, &spares);
        BOOST_TEST(spares.size() == 0u);
        BOOST_TEST(inode_of(root.path / "2-1") == first_inode);
        BOOST_TEST(read_text(root.path / "2-1" / "args.json") == "{}");
        BOOST_TEST(fs::is_empty(root.path / "2-1" / "inbound"));
        BOOST_TEST(fs::is_empty(root.path / "2-1" / "outbound"));
        BOOST_TEST(((fs::status(root.path / "2-1").permissions() & fs::perms::all) == fs::perms::owner_all));
    }
    BOOST_TEST(spares.size() == 1u);
    // With an owner (sandboxed jobs of another user) spares are never used.
    if (::geteuid() == 0) {
        JobFolder owned(root.path / "3-1", "{}", JobUser{65534, 65534, "nobody"}, &spares);
        BOOST_TEST(inode_of(root.path / "3-1") != first_inode);
        BOOST_TEST(spares.size() == 1u);
    }
}

BOOST_AUTO_TEST_CASE(a_folder_the_attempt_changed_in_any_way_is_removed_not_handed_on) {
    TempRoot root;
    fs::create_directory(root.path / "elsewhere");
    // Each: what one attempt did to its folder.
    std::vector<std::pair<std::string, std::function<void(const fs::path&)>>> changes = {
        {"a file left", [](const fs::path& d) { std::ofstream(d / "left") << "x"; }},
        {"a file in inbound/", [](const fs::path& d) { std::ofstream(d / "inbound" / "left") << "x"; }},
        {"a file in outbound/", [](const fs::path& d) { std::ofstream(d / "outbound" / "left") << "x"; }},
        {"a hidden folder", [](const fs::path& d) { fs::create_directory(d / ".cache"); }},
        {"the folder's mode", [](const fs::path& d) { ::chmod(d.c_str(), 0755); }},
        {"args.json's mode", [](const fs::path& d) { ::chmod((d / "args.json").c_str(), 0644); }},
        {"another name for args.json",
         [&](const fs::path& d) { fs::create_hard_link(d / "args.json", root.path / "elsewhere" / "copy"); }},
        {"args.json a folder",
         [](const fs::path& d) {
             fs::remove(d / "args.json");
             fs::create_directory(d / "args.json");
         }},
        {"outbound/ a link to an empty folder",
         [&](const fs::path& d) {
             fs::remove(d / "outbound");
             fs::create_directory_symlink(root.path / "elsewhere", d / "outbound");
         }},
        {"inbound/ gone", [](const fs::path& d) { fs::remove(d / "inbound"); }},
    };
    // An extended attribute, where the filesystem has them.
    if (::setxattr(root.path.c_str(), "user.drover-test", "1", 1, 0) == 0) {
        ::removexattr(root.path.c_str(), "user.drover-test");
        changes.push_back({"an extended attribute", [](const fs::path& d) {
                               BOOST_REQUIRE(::setxattr((d / "args.json").c_str(), "user.note", "x", 1, 0) == 0);
                           }});
    }
    int n = 0;
    for (const auto& [what, change] : changes) {
        SpareFolders spares(root.path);
        fs::path dir = root.path / (std::to_string(++n) + "-1");
        {
            JobFolder folder(dir, "{}", std::nullopt, &spares);
            change(dir);
            BOOST_TEST(!folder.untouched(), what);
        }
        BOOST_TEST(spares.size() == 0u, what);
        BOOST_TEST(!fs::exists(dir), what);
        for (const auto& e : fs::directory_iterator(root.path)) {
            BOOST_TEST(e.path().filename().string().rfind(".spare", 0) != 0, what << ": " << e.path());
        }
        fs::remove(root.path / "elsewhere" / "copy");
    }
    BOOST_TEST(fs::is_empty(root.path / "elsewhere"));  // links were removed, not followed
}

BOOST_AUTO_TEST_CASE(a_spare_meeting_a_leftover_of_the_same_name_goes_and_the_attempt_gets_a_fresh_folder) {
    TempRoot root;
    SpareFolders spares(root.path);
    { JobFolder first(root.path / "1-1", "{}", std::nullopt, &spares); }
    BOOST_REQUIRE(spares.size() == 1u);
    fs::create_directories(root.path / "2-1" / "old");  // a worker that died mid-attempt left it
    {
        JobFolder second(root.path / "2-1", R"({"b": 2})", std::nullopt, &spares);
        BOOST_TEST(!fs::exists(root.path / "2-1" / "old"));
        BOOST_TEST(read_text(root.path / "2-1" / "args.json") == R"({"b": 2})");
    }
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root.path)) ++entries;
    BOOST_TEST(entries == 1u);  // the second attempt's folder, now the one spare
    BOOST_TEST(spares.size() == 1u);
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
