// drover submit --file (a folder zipped with libarchive, or a zip as is;
// parted when large), --wait, --download, and drover artifacts: real
// drover-api and drover-worker brought up by drover start. The artifacts
// downloaded must have the sha256s of the files sent; what cannot be sent
// (symbolic links) is left out and said so; a download folder's own files
// and links are never overwritten or followed unless asked.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/crypto.hpp"
#include "tests/e2e/drover_cli.hpp"
#include "tests/support/zip_builder.hpp"

namespace drover::e2e {
namespace {

namespace fs = std::filesystem;

std::string sha256_hex(const std::string& s) {
    return crypto::to_hex(crypto::sha256(s));
}

void write(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(gen());
    return out;
}

// Temp files a download left behind (".<name>.drover-….part").
int part_files(const fs::path& dir) {
    int n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.path().filename().string().ends_with(".part");
    return n;
}

struct Fixture : LocalDroverWith {
    Fixture()
        : LocalDroverWith(
              {CommandKind("copy", "cp -R \"$DROVER_INBOUND\"/. \"$DROVER_OUTBOUND\"/ && echo copied"),
               CommandKind("progressing",
                           "for i in 1 2 3 4; do echo \"step $i\"; echo \"progress $((i*25)) step $i\" >&3; "
                           "sleep 0.4; done"),
               CommandKind("broken", "echo about to fail; exit 3").attempts(1).permanent({3})},
              // A 3 MiB zip is refused in one request (413) and goes as a
              // parted upload of several parts.
              {{"DROVER_MAX_UPLOAD_BYTES", "1048576"}, {"DROVER_MAX_UPLOAD_PART_BYTES", "1048576"}}) {}
    TempDir work;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(submit_files_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(a_folder_is_zipped_run_and_its_artifacts_downloaded_with_the_same_sha256s) {
    fs::path input = work.path() / "input";
    std::map<std::string, std::string> files = {{"a.txt", "alpha\n"},
                                                {"sub/b.bin", random_bytes(100000, 1)},
                                                {"sub/deeper/c.txt", "gamma"},
                                                {"name with spaces.txt", "spaces"}};
    for (const auto& [name, bytes] : files) write(input / name, bytes);
    fs::create_directories(input / "empty");
    fs::create_symlink("a.txt", input / "link");
    fs::create_symlink("/etc", input / "link_dir");
    ::mkfifo((input / "fifo").c_str(), 0600);

    fs::path out = work.path() / "out";
    auto r = drover({"submit", "copy", "--file", input.string(), "--wait", "--download", out.string()});
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    BOOST_TEST(r.out.find("copied") != std::string::npos);
    BOOST_TEST(r.out.find("succeeded") != std::string::npos);
    // What was left out is named.
    BOOST_TEST(r.err.find("not sent: link (symbolic link)") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("not sent: link_dir (symbolic link)") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("not sent: fifo (FIFO)") != std::string::npos, r.err);
    for (const auto& [name, bytes] : files) {
        BOOST_TEST(fs::is_regular_file(out / name), name);
        BOOST_TEST(sha256_hex(read_file(out / name)) == sha256_hex(bytes), name);
    }
    BOOST_TEST(!fs::exists(fs::symlink_status(out / "link")));
    BOOST_TEST(!fs::exists(fs::symlink_status(out / "link_dir")));
    BOOST_TEST(part_files(out) == 0);

    // artifacts lists them (one JSON line with --json).
    auto jobs = parse_json(drover({"jobs", "--kind", "copy", "--json"}).out);
    BOOST_TEST_REQUIRE(jobs["jobs"].Size() == 1u);
    std::string id = jobs["jobs"][0]["id"].GetString();
    BOOST_TEST_REQUIRE(!id.empty());
    auto listed = drover({"artifacts", id, "--json"});
    BOOST_TEST(listed.status == 0);
    BOOST_TEST(every_line_is_json(listed.out));
    BOOST_TEST(parse_json(listed.out)["artifacts"].Size() == files.size());
    auto table = drover({"artifacts", id});
    BOOST_TEST(table.out.find("sub/b.bin\t100000\t" + sha256_hex(files["sub/b.bin"])) != std::string::npos, table.out);

    // Again into the same folder: the same bytes are there, nothing is written.
    auto again = drover({"artifacts", id, "--download", out.string(), "--json"});
    BOOST_TEST(again.status == 0);
    BOOST_TEST(every_line_is_json(again.out));
    auto doc = parse_json(again.out);
    BOOST_TEST_REQUIRE(doc["files"].IsArray());
    for (const auto& f : doc["files"].GetArray()) BOOST_TEST(std::string(f["action"].GetString()) == "unchanged");

    // A different file of the same name is kept, unless --overwrite.
    write(out / "a.txt", "mine, not the job's");
    auto refused = drover({"artifacts", id, "--download", out.string()});
    BOOST_TEST(refused.status == 6);
    BOOST_TEST(refused.err.find("--overwrite") != std::string::npos, refused.err);
    BOOST_TEST(read_file(out / "a.txt") == "mine, not the job's");
    BOOST_TEST(part_files(out) == 0);
    auto replaced = drover({"artifacts", id, "--download", out.string(), "--overwrite"});
    BOOST_TEST(replaced.status == 0);
    BOOST_TEST(replaced.err.find("replaced") != std::string::npos);
    BOOST_TEST(read_file(out / "a.txt") == files["a.txt"]);

    // A link already in the download folder is not followed out of it.
    fs::path elsewhere = work.path() / "elsewhere";
    fs::create_directories(elsewhere);
    fs::path out2 = work.path() / "out2";
    fs::create_directories(out2);
    fs::create_directory_symlink(elsewhere, out2 / "sub");
    auto through_link = drover({"artifacts", id, "--download", out2.string()});
    BOOST_TEST(through_link.status == 6);
    BOOST_TEST(through_link.err.find("link or not a folder") != std::string::npos, through_link.err);
    BOOST_TEST(fs::is_empty(elsewhere));
}

BOOST_AUTO_TEST_CASE(a_zip_is_sent_as_is_and_a_large_one_in_parts) {
    fs::path zip = work.path() / "in.zip";
    write(zip, test::ZipBuilder().file("in/x.txt", "from a zip").bytes());
    fs::path out = work.path() / "out";
    // --download alone waits too; --json: every stdout line is JSON.
    auto r = drover({"submit", "copy", "--file", zip.string(), "--download", out.string(), "--json"});
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    BOOST_TEST(every_line_is_json(r.out), r.out);
    BOOST_TEST(read_file(out / "in" / "x.txt") == "from a zip");

    // 3 MiB that does not compress: 413 in one request, then in 1 MiB parts.
    fs::path big = work.path() / "big";
    std::string bytes = random_bytes(3 << 20, 2);
    write(big / "big.bin", bytes);
    fs::path out_big = work.path() / "out_big";
    auto parted = drover({"submit", "copy", "--file", big.string(), "--download", out_big.string()});
    BOOST_TEST_REQUIRE(parted.status == 0, parted.err);
    std::size_t parts = 0;
    for (auto at = parted.err.find("drover: uploaded "); at != std::string::npos;
         at = parted.err.find("drover: uploaded ", at + 1)) {
        ++parts;
    }
    BOOST_TEST(parts >= 3, parted.err);
    BOOST_TEST(sha256_hex(read_file(out_big / "big.bin")) == sha256_hex(bytes));

    // Not a zip: the API's refusal, exit 2, no job.
    fs::path not_zip = work.path() / "notes.txt";
    write(not_zip, "just text");
    auto refused = drover({"submit", "copy", "--file", not_zip.string()});
    BOOST_TEST(refused.status == 2);
    BOOST_TEST(refused.err.find("422") != std::string::npos, refused.err);
    auto missing = drover({"submit", "copy", "--file", (work.path() / "nope").string()});
    BOOST_TEST(missing.status == 2);
    BOOST_TEST(missing.err.find("no such file or folder") != std::string::npos);
    auto jobs = parse_json(drover({"jobs", "--kind", "copy", "--json"}).out);
    BOOST_TEST(jobs["jobs"].Size() == 2u);
}

BOOST_AUTO_TEST_CASE(ctrl_c_while_zipping_leaves_no_temporary_zip) {
    fs::path input = work.path() / "input";
    write(input / "big.bin", random_bytes(48 << 20, 3));
    fs::path tmp = work.path() / "tmp";
    fs::create_directories(tmp);
    auto env_tmp = env;
    env_tmp["TMPDIR"] = tmp.string();
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        auto r = run_drover({"submit", "copy", "--file", input.string()}, env_tmp);
        _exit(r.status);
    }
    // The zip being written appears in TMPDIR; interrupt then.
    bool seen = poll_until([&] { return !fs::is_empty(tmp); }, std::chrono::seconds(20), std::chrono::milliseconds(10));
    BOOST_TEST(seen);
    // run_drover's child is the drover process: the one in our child's group with our child as parent.
    std::string pids = read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    BOOST_TEST_REQUIRE(!pids.empty());
    pid_t drover_pid = std::stoi(pids);
    ::kill(drover_pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    BOOST_TEST(WEXITSTATUS(status) == 128 + SIGINT);
    BOOST_TEST(fs::is_empty(tmp));
    BOOST_TEST(parse_json(drover({"jobs", "--json"}).out)["jobs"].Size() == 0u);
}

BOOST_AUTO_TEST_CASE(logs_follow_shows_every_line_and_a_terminal_gets_a_live_line) {
    auto submitted = drover({"submit", "progressing", "--json"});
    BOOST_TEST_REQUIRE(submitted.status == 0);
    std::string id = job_id(submitted.out);
    auto followed = drover({"logs", id, "--follow"});
    BOOST_TEST(followed.status == 0);
    // The job's lines in order, among the runner's own ("attempt 1 of …", "exit code 0").
    BOOST_TEST(followed.out.find("step 1\nstep 2\nstep 3\nstep 4\n") != std::string::npos, followed.out);
    BOOST_TEST(followed.err.find("drover: job " + id + " succeeded") != std::string::npos, followed.err);
    auto as_json = drover({"logs", id, "--json"});
    BOOST_TEST(every_line_is_json(as_json.out));
    BOOST_TEST(as_json.out.find(R"("line":"step 1")") != std::string::npos, as_json.out);

    // Under a terminal (script(1) gives it one): the live line is redrawn in place with a bar.
    std::string command = test::binary_path("drover") + " submit progressing --wait";
    std::string script = "cd " + work.str() + " && " + "DROVER_STATE_DIR=" + env["DROVER_STATE_DIR"] +
                         " TERM=xterm script -qfec '" + command + "' /dev/null > tty.out; echo $? > tty.rc";
    BOOST_TEST_REQUIRE(std::system(script.c_str()) == 0);
    std::string tty = read_file(work.path() / "tty.out");
    BOOST_TEST(read_file(work.path() / "tty.rc") == "0\n", tty);
    BOOST_TEST(tty.find("\r\033[K") != std::string::npos);
    BOOST_TEST(tty.find("step 4") != std::string::npos);
    BOOST_TEST(tty.find("running") != std::string::npos, tty);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
