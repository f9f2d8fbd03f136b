#include "cli/zip_folder.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "core/archive/zip_names.hpp"
#include "core/error.hpp"

namespace drover::cli {
namespace fs = std::filesystem;
namespace {

std::string kind_of(const fs::file_status& st) {
    switch (st.type()) {
        case fs::file_type::symlink:
            return "symbolic link";
        case fs::file_type::block:
            return "block device";
        case fs::file_type::character:
            return "character device";
        case fs::file_type::fifo:
            return "FIFO";
        case fs::file_type::socket:
            return "socket";
        default:
            return "not a regular file";
    }
}

void check(int rc, ::archive* a, const std::string& what) {
    if (rc < ARCHIVE_WARN)
        throw ConfigError(what + ": " + (archive_error_string(a) ? archive_error_string(a) : "libarchive error"));
}

}  // namespace

ZippedFolder zip_folder(const fs::path& folder, const fs::path& zip_path) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) throw ConfigError(folder.string() + " is not a folder");
    // Sorted names: the same folder gives the same zip order every time.
    std::vector<fs::path> entries;
    for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::none, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        entries.push_back(it->path());
    }
    if (ec) throw ConfigError("cannot read " + folder.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end());

    std::unique_ptr<::archive, int (*)(::archive*)> a(archive_write_new(), archive_write_free);
    check(archive_write_set_format_zip(a.get()), a.get(), "zip format");
    check(archive_write_open_filename(a.get(), zip_path.c_str()), a.get(), "cannot write " + zip_path.string());
    ZippedFolder out;
    std::vector<char> buffer(1 << 16);
    for (const auto& path : entries) {
        // lexically: fs::relative would resolve a symbolic link to its target's name.
        std::string name = path.lexically_relative(folder).generic_string();
        auto st = fs::symlink_status(path, ec);
        if (ec) throw ConfigError("cannot read " + path.string() + ": " + ec.message());
        const bool dir = fs::is_directory(st), file = fs::is_regular_file(st);
        if (!dir && !file) {
            out.skipped.push_back(name + " (" + kind_of(st) + ")");
            continue;
        }
        if (auto reason = drover::archive::name_reason(name, false); !reason.empty()) {
            throw ConfigError("cannot send " + path.string() + ": " + reason);
        }
        struct stat sb {};
        int fd = -1;
        if (file) {
            // O_NOFOLLOW: a file swapped for a link since the listing is not followed.
            fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0 || ::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
                if (fd >= 0) ::close(fd);
                throw ConfigError("cannot read " + path.string());
            }
        }
        std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
        archive_entry_set_pathname_utf8(e.get(), dir ? (name + "/").c_str() : name.c_str());
        archive_entry_set_filetype(e.get(), dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(e.get(), dir ? 0755 : ((sb.st_mode & 0111) ? 0755 : 0644));
        archive_entry_set_size(e.get(), dir ? 0 : sb.st_size);
        if (file) archive_entry_set_mtime(e.get(), sb.st_mtime, 0);
        check(archive_write_header(a.get(), e.get()), a.get(), "zip " + name);
        if (dir) {
            ++out.folders;
            continue;
        }
        std::int64_t left = sb.st_size;
        while (left > 0) {
            ssize_t n =
                ::read(fd, buffer.data(), static_cast<std::size_t>(std::min<std::int64_t>(left, buffer.size())));
            if (n <= 0) {
                ::close(fd);
                throw ConfigError("cannot read " + path.string() + " (did it change while being zipped?)");
            }
            if (archive_write_data(a.get(), buffer.data(), static_cast<std::size_t>(n)) != n) {
                ::close(fd);
                check(ARCHIVE_FATAL, a.get(), "zip " + name);
            }
            left -= n;
        }
        ::close(fd);
        ++out.files;
        out.bytes += static_cast<std::uint64_t>(sb.st_size);
    }
    check(archive_write_close(a.get()), a.get(), "cannot finish " + zip_path.string());
    return out;
}

}  // namespace drover::cli
