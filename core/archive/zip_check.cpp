#include "core/archive/zip_check.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <memory>
#include <optional>

#include "core/archive/zip_names.hpp"
#include "core/crypto.hpp"

namespace drover::archive {
namespace {

std::uint64_t le(std::string_view b, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
    return v;
}

// The raw names of the central directory, checked before libarchive sees
// them: libarchive stops a name at its first NUL byte, so "a\0/../x" would
// reach the other checks as "a".
void check_central_directory(std::string_view b, const ZipLimits& limits) {
    if (b.size() < 22) throw ZipRejected("not_a_zip", "the body is not a zip archive");
    std::optional<std::size_t> eocd;
    std::size_t lowest = b.size() >= 22 + 65535 ? b.size() - 22 - 65535 : 0;
    for (std::size_t p = b.size() - 22 + 1; p-- > lowest;) {
        if (b.compare(p, 4, "PK\x05\x06") == 0) {
            eocd = p;
            break;
        }
    }
    if (!eocd) throw ZipRejected("not_a_zip", "the body is not a zip archive (no end of central directory)");
    std::uint64_t count = le(b, *eocd + 10, 2);
    std::uint64_t size = le(b, *eocd + 12, 4);
    std::uint64_t offset = le(b, *eocd + 16, 4);
    if (count == 0xFFFF || size == 0xFFFFFFFF || offset == 0xFFFFFFFF) {  // zip64
        if (*eocd < 20 || b.compare(*eocd - 20, 4, "PK\x06\x07") != 0) {
            throw ZipRejected("corrupt_zip", "zip64 end of central directory locator missing");
        }
        std::uint64_t at = le(b, *eocd - 20 + 8, 8);
        if (at > b.size() - 56 || b.compare(at, 4, "PK\x06\x06") != 0) {
            throw ZipRejected("corrupt_zip", "zip64 end of central directory record missing");
        }
        count = le(b, at + 32, 8);
        size = le(b, at + 40, 8);
        offset = le(b, at + 48, 8);
    }
    if (count > limits.max_entries) {
        throw ZipRejected("too_many_entries", "the zip has " + std::to_string(count) + " entries; at most " +
                                                  std::to_string(limits.max_entries) + " are accepted");
    }
    if (offset > b.size() || size > b.size() - offset) {
        throw ZipRejected("corrupt_zip", "the central directory lies outside the file (truncated zip?)");
    }
    std::size_t p = offset;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (p + 46 > offset + size || b.compare(p, 4, "PK\x01\x02") != 0) {
            throw ZipRejected("corrupt_zip", "central directory entry " + std::to_string(i) + " is damaged");
        }
        std::size_t name_len = le(b, p + 28, 2), extra_len = le(b, p + 30, 2), comment_len = le(b, p + 32, 2);
        if (p + 46 + name_len > offset + size) throw ZipRejected("corrupt_zip", "a name runs past the directory");
        std::string_view name = b.substr(p + 46, name_len);
        if (name.find('\0') != std::string_view::npos) {
            throw ZipRejected("invalid_name", "entry " + std::to_string(i) + " has a NUL byte in its name");
        }
        if (!valid_utf8(name)) {
            throw ZipRejected("invalid_name", "entry " + std::to_string(i) + " has a name that is not valid UTF-8");
        }
        // Made on Unix: the mode is in the external attributes. libarchive
        // reads some types (a FIFO) as regular files; refuse them here.
        if (static_cast<unsigned char>(b[p + 5]) == 3) {
            auto type = static_cast<unsigned>(le(b, p + 38, 4) >> 16) & S_IFMT;
            if (type != 0 && type != S_IFREG && type != S_IFDIR) {
                throw ZipRejected("unsupported_entry", "entry " + std::to_string(i) +
                                                           " is not a file or a folder (a link, device, FIFO or "
                                                           "socket); only files and folders are accepted");
            }
        }
        p += 46 + name_len + extra_len + comment_len;
    }
}

struct ArchiveFree {
    void operator()(struct archive* a) const { archive_read_free(a); }
};

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::string shown(std::string_view name) {
    std::string out = "'";
    for (char c : name.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
    return out + (name.size() > 200 ? "...'" : "'");
}

// Walks every entry; writes files under `into` when it is given. `bytes`
// is the whole zip; libarchive reads it from memory, or from `file` when one
// is given (a mapped file: read()ing it keeps its pages out of the process's
// RSS, which the mapping would grow by the file's size).
ZipSummary walk(std::string_view bytes, const ZipLimits& limits, const std::filesystem::path* into,
                const std::filesystem::path* file = nullptr) {
    check_central_directory(bytes, limits);
    std::unique_ptr<struct archive, ArchiveFree> a(archive_read_new());
    if (!a) throw Error("archive_read_new failed");
    archive_read_support_format_zip(a.get());
    int opened = file ? archive_read_open_filename(a.get(), file->c_str(), 1 << 20)
                      : archive_read_open_memory(a.get(), bytes.data(), bytes.size());
    if (opened != ARCHIVE_OK) {
        throw ZipRejected("not_a_zip", std::string("the body is not a zip archive: ") +
                                           archive_error_string(a.get()));
    }
    ZipSummary summary;
    for (;;) {
        struct archive_entry* entry = nullptr;
        int r = archive_read_next_header(a.get(), &entry);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            const char* why = archive_error_string(a.get());
            throw ZipRejected("corrupt_zip", std::string("cannot read entry ") + std::to_string(summary.entries) +
                                                 ": " + (why ? why : "damaged archive"));
        }
        if (++summary.entries > limits.max_entries) {
            throw ZipRejected("too_many_entries",
                              "the zip has more than " + std::to_string(limits.max_entries) + " entries");
        }
        const char* raw = archive_entry_pathname(entry);
        std::string name = raw ? raw : "";
        auto type = archive_entry_filetype(entry);
        if (archive_entry_hardlink(entry) != nullptr) {
            throw ZipRejected("unsupported_entry", "entry " + shown(name) + " is a hard link; only files and "
                                                                              "folders are accepted");
        }
        if (type != AE_IFREG && type != AE_IFDIR) {
            const char* what = type == AE_IFLNK ? "a symbolic link" : type == AE_IFIFO ? "a FIFO"
                               : type == AE_IFCHR || type == AE_IFBLK ? "a device" : type == AE_IFSOCK ? "a socket"
                                                                                                       : "not a file";
            throw ZipRejected("unsupported_entry",
                              "entry " + shown(name) + " is " + what + "; only files and folders are accepted");
        }
        if (auto why = name_reason(name, type == AE_IFDIR); !why.empty()) {
            throw ZipRejected("unsafe_path", "entry " + shown(name) + ": " + why);
        }
        if (archive_entry_is_encrypted(entry)) {
            throw ZipRejected("encrypted_entry", "entry " + shown(name) + " is encrypted");
        }
        Fd out;
        if (into) {
            auto path = *into / name;
            if (type == AE_IFDIR) {
                std::error_code ec;
                std::filesystem::create_directories(path, ec);
                if (ec) throw ZipRejected("corrupt_zip", "cannot create folder " + shown(name) + ": " + ec.message());
                continue;
            }
            std::error_code ec;
            std::filesystem::create_directories(path.parent_path(), ec);
            // O_EXCL | O_NOFOLLOW: an entry never overwrites another, nor follows anything.
            out.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (out.fd < 0) {
                throw ZipRejected("corrupt_zip", "cannot create " + shown(name) + " (a duplicate name?)");
            }
        }
        if (type == AE_IFDIR) continue;
        for (;;) {
            const void* block = nullptr;
            size_t size = 0;
            la_int64_t offset = 0;
            int d = archive_read_data_block(a.get(), &block, &size, &offset);
            if (d == ARCHIVE_EOF) break;
            if (d != ARCHIVE_OK && d != ARCHIVE_WARN) {
                const char* why = archive_error_string(a.get());
                throw ZipRejected("corrupt_zip",
                                  "cannot read " + shown(name) + ": " + (why ? why : "damaged data"));
            }
            summary.uncompressed_size += size;
            if (summary.uncompressed_size > limits.max_uncompressed_bytes) {
                throw ZipRejected("too_large_uncompressed",
                                  "the zip unpacks to more than " + std::to_string(limits.max_uncompressed_bytes) +
                                      " bytes");
            }
            if (out.fd >= 0 && size > 0) {
                // Sparse blocks: the offset says where this one goes.
                const char* p = static_cast<const char*>(block);
                std::size_t left = size;
                off_t at = offset;
                while (left > 0) {
                    auto n = ::pwrite(out.fd, p, left, at);
                    if (n < 0) throw Error("cannot write " + shown(name) + ": " + std::strerror(errno));
                    p += n;
                    at += n;
                    left -= static_cast<std::size_t>(n);
                }
            }
        }
        if (out.fd >= 0) {
            auto declared = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
            if (declared >= 0 && ::ftruncate(out.fd, declared) != 0) {
                throw Error("cannot size " + shown(name) + ": " + std::strerror(errno));
            }
        }
    }
    return summary;
}

}  // namespace

ZipSummary check_zip(std::string_view bytes, const ZipLimits& limits) { return walk(bytes, limits, nullptr); }

namespace {

// A file mapped read-only for the central directory check (the zip is
// never copied onto the heap: parted uploads can be large).
class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path) {
        Fd in;
        in.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (in.fd < 0) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
        struct stat st {};
        if (::fstat(in.fd, &st) != 0) throw Error("cannot stat " + path.string());
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ == 0) return;
        map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, in.fd, 0);
        if (map_ == MAP_FAILED) {
            map_ = nullptr;
            throw Error("cannot map " + path.string() + ": " + std::strerror(errno));
        }
    }
    ~MappedFile() {
        if (map_) ::munmap(map_, size_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    std::string_view bytes() const { return {static_cast<const char*>(map_), map_ ? size_ : 0}; }

private:
    void* map_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace

// The mapping serves the central directory check only (the last pages of
// the file); libarchive reads the entries with read().
ZipSummary check_zip_file(const std::filesystem::path& zip, const ZipLimits& limits) {
    MappedFile file(zip);
    return walk(file.bytes(), limits, nullptr, &zip);
}

ZipSummary extract_zip(const std::filesystem::path& zip, const std::filesystem::path& destination,
                       const ZipLimits& limits) {
    MappedFile file(zip);
    auto temp = destination.parent_path() /
                ("." + destination.filename().string() + ".partial-" + crypto::to_hex(crypto::random_bytes(6)));
    std::filesystem::create_directory(temp);
    try {
        auto summary = walk(file.bytes(), limits, &temp, &zip);
        std::filesystem::rename(temp, destination);
        return summary;
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(temp, ignored);
        throw;
    }
}

}  // namespace drover::archive
