#include "cli/commands/install_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace drover::cli {
namespace {

// scripts/install next to the binaries (build/bin/../../scripts), else in
// the source tree this binary was built from, as for scripts/pg.
std::string script_path() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto candidate = exe.parent_path().parent_path().parent_path() / "scripts" / "install";
        if (std::filesystem::exists(candidate)) return candidate.string();
    }
    return std::string(DROVER_SOURCE_DIR) + "/scripts/install";
}

}  // namespace

int install_command(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {script_path()};
    for (const auto& a : args) {
        if (a == "--help" || a == "-h") {
            std::cout << "Usage: drover install [--check]\n"
                         "  installs the Debian packages, dbmate (into <source>/.tools) and, as root, the\n"
                         "  drover-job user that Drover needs and are missing (apt-get through sudo when not\n"
                         "  root); one JSON line says what. --check (or --dry-run) installs nothing, says what\n"
                         "  is missing and exits 1 if anything is. Runs "
                      << argv[0] << ".\n";
            return 0;
        }
        if (a != "--check" && a != "--dry-run") {
            std::cerr << "drover install: unknown argument " << a << " (see drover install --help)\n";
            return 2;
        }
        argv.push_back(a);
    }
    std::vector<char*> raw;
    for (auto& s : argv) raw.push_back(s.data());
    raw.push_back(nullptr);
    ::execv(raw[0], raw.data());
    std::cout << "{\"ok\":false,\"error\":\"cannot run " << argv[0] << ": " << std::strerror(errno) << "\"}\n";
    return 1;
}

}  // namespace drover::cli
