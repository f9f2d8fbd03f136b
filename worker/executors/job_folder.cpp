#include "worker/executors/job_folder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>

namespace drover::worker {
namespace fs = std::filesystem;

namespace {

bool is_real_dir(const fs::path& p, fs::perms expected) {
    std::error_code ec;
    auto st = fs::symlink_status(p, ec);
    return !ec && st.type() == fs::file_type::directory && st.permissions() == expected;
}

// Removes everything inside `dir` (not dir itself).
void empty(const fs::path& dir) {
    for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
}

void write_file(const fs::path& path, std::string_view text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = errno;
            ::close(fd);
            throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(e));
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    ::close(fd);
}

}  // namespace

JobFolder::~JobFolder() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

void JobFolder::rebuild() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    if (ec || fs::exists(fs::symlink_status(dir_, ec))) {
        // Cannot remove it (a job took away our permissions inside it): move
        // it aside, out of the next job's way, and try to remove it there.
        static std::atomic<int> stale{0};
        fs::path aside = dir_;
        aside += ".stale-" + std::to_string(stale++);
        fs::rename(dir_, aside);
        fs::remove_all(aside, ec);
    }
    fs::create_directories(dir_);
    fs::create_directory(inbound());
    fs::create_directory(outbound());
    dir_perms_ = fs::status(dir_).permissions();
    clean_ = true;
}

void JobFolder::prepare(std::string_view args_json) {
    if (!clean_) rebuild();
    clean_ = false;  // until clear() has checked what the job left
    try {
        write_file(args_file(), args_json);
    } catch (const std::exception&) {
        rebuild();
        clean_ = false;
        write_file(args_file(), args_json);
    }
}

void JobFolder::clear() noexcept {
    try {
        if (!is_real_dir(dir_, dir_perms_) || !is_real_dir(inbound(), dir_perms_) ||
            !is_real_dir(outbound(), dir_perms_)) {
            clean_ = false;
            return;
        }
        for (const auto& entry : fs::directory_iterator(dir_)) {
            auto name = entry.path().filename();
            if (name == "inbound" || name == "outbound") {
                empty(entry.path());
            } else if (name == "args.json" && entry.is_regular_file() && !entry.is_symlink() &&
                       entry.hard_link_count() == 1) {
                continue;  // rewritten by the next prepare()
            } else {
                fs::remove_all(entry.path());
            }
        }
        clean_ = true;
    } catch (...) {
        clean_ = false;
    }
}

}  // namespace drover::worker
