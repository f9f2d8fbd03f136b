#include "cli/temp_files.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>

namespace drover::cli {
namespace {

constexpr int slots = 4;
char paths[slots][4096];
std::atomic<bool> used[slots];

extern "C" void unlink_and_die(int sig) {
    for (int i = 0; i < slots; ++i) {
        if (used[i].load()) ::unlink(paths[i]);  // async-signal-safe
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void install_handlers() {
    static bool installed = false;
    if (installed) return;
    installed = true;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, unlink_and_die);
}

}  // namespace

TempFileGuard::TempFileGuard(const std::string& path) {
    if (path.size() >= sizeof paths[0]) return;
    for (int i = 0; i < slots; ++i) {
        if (used[i].load()) continue;
        std::memcpy(paths[i], path.c_str(), path.size() + 1);
        used[i].store(true);
        slot_ = i;
        install_handlers();
        return;
    }
}

TempFileGuard::~TempFileGuard() {
    if (slot_ >= 0) used[slot_].store(false);
}

}  // namespace drover::cli
