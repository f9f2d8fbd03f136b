#include "worker/executors/job_folder.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <cstring>
#include <stdexcept>
#include <string>

namespace drover::worker {
namespace fs = std::filesystem;

namespace {

// 0, or the errno of the failed write.
int write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? errno : EIO;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

// `path` is `dir_fd`'s entry of that name (it names it in errors).
void write_file(int dir_fd, const fs::path& path, std::string_view text) {
    int fd = ::openat(dir_fd, path.filename().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
    int e = write_all(fd, text);
    ::close(fd);
    if (e != 0) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(e));
}

// Whether the folder `name` of `dir_fd` ("." for itself; a link is not a
// folder) holds exactly the entries `names`: one getdents64, no allocation.
bool holds_exactly(int dir_fd, const char* name, std::initializer_list<std::string_view> names) {
    int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    alignas(struct dirent64) char buf[2048];
    std::size_t found = 0;
    bool only_those = true;
    for (ssize_t n; only_those && (n = ::getdents64(fd, buf, sizeof buf)) != 0;) {
        if (n < 0) {
            only_those = false;
            break;
        }
        for (ssize_t at = 0; at < n;) {
            const auto* entry = reinterpret_cast<const struct dirent64*>(buf + at);
            at += entry->d_reclen;
            std::string_view entry_name = entry->d_name;
            if (entry_name == "." || entry_name == "..") continue;
            if (std::find(names.begin(), names.end(), entry_name) == names.end()) only_those = false;
            ++found;
        }
    }
    ::close(fd);
    return only_those && found == names.size();
}

void make_dir(const fs::path& path) {
    if (::mkdir(path.c_str(), 0700) != 0) {
        throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    }
}

// `path` itself (dir_fd -1), or `dir_fd`'s entry of that name.
void give(int dir_fd, const fs::path& path, const std::optional<JobUser>& owner) {
    if (!owner) return;
    int rc = dir_fd < 0 ? ::lchown(path.c_str(), owner->uid, owner->gid)
                        : ::fchownat(dir_fd, path.filename().c_str(), owner->uid, owner->gid, AT_SYMLINK_NOFOLLOW);
    if (rc != 0) {
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

JobFolder::JobFolder(fs::path dir, std::string_view args_json, const std::optional<JobUser>& owner,
                     SpareFolders* spares)
    : dir_(std::move(dir)), spares_(owner ? nullptr : spares) {
    if (spares_ && reuse_spare(args_json)) return;
    make_fresh(args_json, owner);
}

void JobFolder::make_fresh(std::string_view args_json, const std::optional<JobUser>& owner) {
    // A leftover of the same name (a worker that died mid-attempt) is rare:
    // found by mkdir itself rather than by a stat before every attempt.
    if (::mkdir(dir_.c_str(), 0700) != 0) {
        if (errno != EEXIST) throw std::runtime_error("cannot create " + dir_.string() + ": " + std::strerror(errno));
        remove_tree(dir_);
        make_dir(dir_);
    }
    try {
        // Its entries made through the folder's descriptor, without walking its path again.
        fd_ = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error("cannot open " + dir_.string() + ": " + std::strerror(errno));
        for (const char* sub : {"inbound", "outbound"}) {
            if (::mkdirat(fd_, sub, 0700) != 0) {
                throw std::runtime_error("cannot create " + (dir_ / sub).string() + ": " + std::strerror(errno));
            }
        }
        write_file(fd_, dir_ / "args.json", args_json);
        for (const char* entry : {"inbound", "outbound", "args.json"}) give(fd_, dir_ / entry, owner);
        give(-1, dir_, owner);
    } catch (...) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        remove_tree(dir_);
        throw;
    }
}

bool JobFolder::reuse_spare(std::string_view args_json) {
    auto spare = spares_->take();
    if (!spare) return false;
    // A leftover of the same name that is not empty makes the rename fail:
    // that spare goes, and the attempt gets a fresh folder.
    if (::rename(spare->path.c_str(), dir_.c_str()) != 0) {
        ::close(spare->fd);
        remove_tree(spare->path);
        return false;
    }
    fd_ = spare->fd;
    // Rewritten in place rather than replaced: the file keeps its inode and,
    // cut to a shorter length, its block (a freed block is a synchronous
    // discard on a disk mounted with `discard`).
    int fd = ::openat(fd_, "args.json", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    bool written = fd >= 0 && write_all(fd, args_json) == 0 &&
                   ::ftruncate(fd, static_cast<off_t>(args_json.size())) == 0;
    if (fd >= 0) ::close(fd);
    if (written) return true;
    ::close(fd_);
    fd_ = -1;
    remove_tree(dir_);
    return false;
}

bool JobFolder::untouched() const {
    if (fd_ < 0 || outbound_gone_) return false;
    const uid_t me = ::geteuid();
    // links 0: not checked (a folder's count varies between filesystems; its entries are read below).
    auto is = [&](const char* name, mode_t type, mode_t mode, nlink_t links) {
        struct stat st {};
        return ::fstatat(fd_, name, &st, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) == 0 &&
               (st.st_mode & S_IFMT) == type && (st.st_mode & 07777) == mode && (links == 0 || st.st_nlink == links) &&
               st.st_uid == me;
    };
    // One link: args.json has no other name (through which the job could
    // read what the next attempt gets).
    if (!is("", S_IFDIR, 0700, 0) || !is("args.json", S_IFREG, 0600, 1) || !is("inbound", S_IFDIR, 0700, 0) ||
        !is("outbound", S_IFDIR, 0700, 0)) {
        return false;
    }
    if (!holds_exactly(fd_, ".", {"args.json", "inbound", "outbound"}) || !holds_exactly(fd_, "inbound", {}) ||
        !holds_exactly(fd_, "outbound", {})) {
        return false;
    }
    // No extended attributes (ACLs are some): a filesystem without them has none.
    for (const char* name : {"", "args.json", "inbound", "outbound"}) {
        ssize_t n = ::llistxattr((*name ? dir_ / name : dir_).c_str(), nullptr, 0);
        if (n != 0 && !(n < 0 && errno == ENOTSUP)) return false;
    }
    return true;
}

JobFolder::~JobFolder() {
    if (spares_ && untouched()) {
        auto path = spares_->next_path();
        if (::rename(dir_.c_str(), path.c_str()) == 0) {
            spares_->put({path, fd_});
            return;
        }
    }
    // What the attempt started with, removed entry by entry: four system
    // calls, where remove_tree walks the tree (open, read, stat each entry).
    // Anything the job changed there (a file left, a folder replaced by a
    // link) makes one fail, and remove_tree removes whatever is left.
    bool removed = fd_ >= 0 && ::unlinkat(fd_, "args.json", 0) == 0 && ::unlinkat(fd_, "inbound", AT_REMOVEDIR) == 0 &&
                   (outbound_gone_ || ::unlinkat(fd_, "outbound", AT_REMOVEDIR) == 0) && ::rmdir(dir_.c_str()) == 0;
    if (fd_ >= 0) ::close(fd_);
    if (!removed) remove_tree(dir_);
}

bool JobFolder::outbound_is_empty() {
    if (outbound_gone_ || fd_ < 0) return outbound_gone_;
    if (spares_) return holds_exactly(fd_, "outbound", {});
    outbound_gone_ = ::unlinkat(fd_, "outbound", AT_REMOVEDIR) == 0;
    return outbound_gone_;
}

SpareFolders::~SpareFolders() {
    for (auto& spare : spares_) ::close(spare.fd);
}

std::optional<SpareFolders::Spare> SpareFolders::take() {
    std::lock_guard lock(mutex_);
    if (spares_.empty()) return std::nullopt;
    Spare spare = std::move(spares_.back());
    spares_.pop_back();
    return spare;
}

void SpareFolders::put(Spare spare) {
    std::lock_guard lock(mutex_);
    spares_.push_back(std::move(spare));
}

fs::path SpareFolders::next_path() {
    std::lock_guard lock(mutex_);
    return dir_ / (".spare-" + std::to_string(++named_));
}

std::size_t SpareFolders::size() {
    std::lock_guard lock(mutex_);
    return spares_.size();
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
