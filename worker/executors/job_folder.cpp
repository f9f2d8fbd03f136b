#include "worker/executors/job_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

namespace drover::worker {
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, std::string_view text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
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

void make_dir(const fs::path& path) {
    if (::mkdir(path.c_str(), 0700) != 0) {
        throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    }
}

void give(const fs::path& path, const std::optional<JobUser>& owner) {
    if (owner && ::lchown(path.c_str(), owner->uid, owner->gid) != 0) {
        throw std::runtime_error("cannot hand " + path.string() + " to uid " + std::to_string(owner->uid) + ": " +
                                 std::strerror(errno));
    }
}

// Gives back the owner's permissions on every folder of the tree (a job
// running as the worker's own user can take them away), without following links.
void restore_permissions(const fs::path& path) noexcept {
    std::error_code ec;
    auto st = fs::symlink_status(path, ec);
    if (ec || !fs::is_directory(st)) return;
    ::chmod(path.c_str(), 0700);
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) restore_permissions(it->path());
}

}  // namespace

bool remove_tree(const fs::path& path) noexcept {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (!ec && !fs::exists(fs::symlink_status(path, ec))) return true;
    restore_permissions(path);
    ec.clear();
    fs::remove_all(path, ec);
    return !ec && !fs::exists(fs::symlink_status(path, ec));
}

JobFolder::JobFolder(fs::path dir, std::string_view args_json, const std::optional<JobUser>& owner)
    : dir_(std::move(dir)) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(dir_, ec))) remove_tree(dir_);
    make_dir(dir_);
    try {
        make_dir(dir_ / "inbound");
        make_dir(dir_ / "outbound");
        write_file(dir_ / "args.json", args_json);
        for (const char* entry : {"inbound", "outbound", "args.json"}) give(dir_ / entry, owner);
        give(dir_, owner);
        fd_ = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error("cannot open " + dir_.string() + ": " + std::strerror(errno));
    } catch (...) {
        remove_tree(dir_);
        throw;
    }
}

JobFolder::~JobFolder() {
    if (fd_ >= 0) ::close(fd_);
    remove_tree(dir_);
}

std::string JobFolders::key_of(const std::string& worker_id) {
    std::string key = worker_id;
    for (char& c : key) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok) c = '_';
    }
    if (key.empty() || key[0] == '.') key = "_" + key;
    return key;
}

JobFolders::JobFolders(fs::path root, const std::string& worker_id) : root_(std::move(root)) {
    auto key = key_of(worker_id);
    dir_ = root_ / key;
    lock_path_ = root_ / (key + ".lock");
    fs::create_directories(root_);
    ::chmod(root_.c_str(), 0700);
    // Lock, then check that the file locked is still the one at the path: a
    // sweep may have removed it in between (it found it unlocked).
    for (int tries = 0;; ++tries) {
        lock_fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock_fd_ < 0) throw std::runtime_error("cannot create " + lock_path_.string() + ": " + std::strerror(errno));
        // A sweep holds it for a moment while it removes a dead worker's
        // folder of the same id; a live worker holds it for good.
        int waited_ms = 0;
        while (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
            if (waited_ms >= 3000) {
                ::close(lock_fd_);
                throw std::runtime_error("another live worker uses the id '" + worker_id + "' (" +
                                         lock_path_.string() + " is locked)");
            }
            ::usleep(50'000);
            waited_ms += 50;
        }
        struct stat held {}, at_path {};
        if (::fstat(lock_fd_, &held) == 0 && ::stat(lock_path_.c_str(), &at_path) == 0 &&
            held.st_ino == at_path.st_ino && held.st_dev == at_path.st_dev) {
            break;
        }
        ::close(lock_fd_);
        if (tries > 10) throw std::runtime_error("cannot lock " + lock_path_.string());
    }
    // A previous life of this worker id left it: ours now.
    remove_tree(dir_);
    fs::create_directory(dir_);
    ::chmod(dir_.c_str(), 0700);
}

JobFolders::~JobFolders() {
    remove_tree(dir_);
    ::unlink(lock_path_.c_str());
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

int JobFolders::remove_orphans() noexcept {
    int removed = 0;
    std::error_code ec;
    auto now = fs::file_time_type::clock::now();
    for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path path = it->path();
        std::error_code e;
        auto st = fs::symlink_status(path, e);
        if (e || path == dir_ || path == lock_path_) continue;
        if (fs::is_directory(st)) {
            fs::path lock = path;
            lock += ".lock";
            int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
            if (fd < 0) {
                // No lock file: a folder of an older version (or of a worker
                // that died while removing its own). Left alone while young.
                auto mtime = fs::last_write_time(path, e);
                if (e || now - mtime < std::chrono::minutes(1)) continue;
                if (remove_tree(path)) ++removed;
                continue;
            }
            if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
                // Its worker is gone: holding its lock, remove the folder, then the lock file.
                if (remove_tree(path)) {
                    ++removed;
                    ::unlink(lock.c_str());
                }
            }
            ::close(fd);
        } else if (path.extension() == ".lock" && !fs::exists(fs::path(path).replace_extension(""), e)) {
            int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
            if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
                // A lock without a folder: a worker that is gone, or one
                // starting (which checks, after locking, that its file is still there).
                ::unlink(path.c_str());
            }
            if (fd >= 0) ::close(fd);
        }
    }
    return removed;
}

}  // namespace drover::worker
