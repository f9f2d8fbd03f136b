#include "cli/local/local_postgres.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace drover::cli {
namespace {

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string run_pg(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {LocalPostgres::script_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto out = run_command(argv);
    if (out.status != 0) {
        std::string what = "scripts/pg " + args.front() + " failed (exit " + std::to_string(out.status) + ")";
        throw std::runtime_error(what + ": " + trimmed(out.err));
    }
    return trimmed(out.out);
}

}  // namespace

LocalPostgres::LocalPostgres(std::string dir) : dir_(std::move(dir)) {}

std::string LocalPostgres::script_path() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto candidate = exe.parent_path().parent_path().parent_path() / "scripts" / "pg";
        if (std::filesystem::exists(candidate)) return candidate.string();
    }
    return std::string(DROVER_SOURCE_DIR) + "/scripts/pg";
}

// Where the cluster of the folder lives: the folder itself, or, as root when
// the postgres user cannot reach the folder, the place its `home` file names
// (scripts/lib/pg.sh, _pg_home).
std::string LocalPostgres::home() const {
    std::ifstream in(dir_ + "/home");
    std::string home;
    if (std::getline(in, home) && !home.empty()) return home;
    return dir_;
}

std::optional<ProcessRecord> LocalPostgres::running() const {
    const std::string cluster = home();
    std::ifstream in(cluster + "/data/postmaster.pid");
    long pid = 0;
    if (!(in >> pid) || pid <= 0) return std::nullopt;
    auto start = process_start_time(static_cast<pid_t>(pid));
    if (!start) return std::nullopt;
    // A stale postmaster.pid may name a pid some other program now has.
    if (process_cmdline(static_cast<pid_t>(pid)).find("postgres") == std::string::npos) return std::nullopt;
    return ProcessRecord{"postgres", static_cast<pid_t>(pid), *start, cluster + "/postgres.log"};
}

std::string LocalPostgres::start() {
    run_pg({"start", dir_});
    run_pg({"createdb", dir_, "drover"});
    return url();
}

std::string LocalPostgres::url() const { return run_pg({"url", dir_, "drover"}); }

void LocalPostgres::stop() { run_pg({"stop", dir_}); }

}  // namespace drover::cli
