#include "cli/commands/export_import_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "core/db/connection.hpp"
#include "core/error.hpp"
#include "core/storage/blob_store.hpp"
#include "core/store/upload_archive.hpp"

namespace drover::cli {

namespace {

std::string file_argument(const std::vector<std::string>& words, const char* command, bool& whitelisted_only) {
    std::string file;
    for (const auto& w : words) {
        if (w == "--whitelisted-only" && std::string_view(command) == "export") {
            whitelisted_only = true;
        } else if (file.empty()) {
            file = w;
        } else {
            throw InputError(InputError::Kind::invalid, "usage", std::string("usage: drover ") + command + " FILE");
        }
    }
    if (file.empty()) {
        throw InputError(InputError::Kind::invalid, "usage",
                         std::string("usage: drover ") + command +
                             (std::string_view(command) == "export" ? " FILE [--whitelisted-only]" : " FILE") +
                             "   (FILE - : standard " + (std::string_view(command) == "export" ? "output" : "input") +
                             ")");
    }
    return file;
}

}  // namespace

int export_command(const Config& config, const std::vector<std::string>& words) {
    bool whitelisted_only = false;
    std::string file;
    try {
        file = file_argument(words, "export", whitelisted_only);
    } catch (const InputError& e) {
        std::cerr << "drover export: " << e.what() << "\n";
        return 2;
    }
    db::Connection conn(config.str("database_url"), "drover-export");
    storage::BlobStore blobs(storage::storage_root(config));
    int fd = 1;
    std::string partial;
    if (file != "-") {
        partial = file + ".partial";
        fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            std::cerr << "drover export: cannot create " << partial << ": " << std::strerror(errno) << "\n";
            return 1;
        }
    }
    ExportSummary s;
    try {
        s = export_uploads(conn, blobs, fd, whitelisted_only);
        if (fd != 1 && (::fsync(fd) != 0 || ::close(fd) != 0)) {
            throw Error("cannot write " + partial + ": " + std::strerror(errno));
        }
        if (!partial.empty()) std::filesystem::rename(partial, file);
    } catch (const std::exception& e) {
        if (fd != 1) {
            ::close(fd);
            ::unlink(partial.c_str());
        }
        std::cerr << "drover export: " << e.what() << "\n";
        return 1;
    }
    (file == "-" ? std::cerr : std::cout) << R"({"uploads": )" << s.uploads << R"(, "blobs": )" << s.blobs
                                          << R"(, "bytes": )" << s.bytes << "}\n";
    return 0;
}

int import_command(const Config& config, const std::vector<std::string>& words) {
    bool unused = false;
    std::string file;
    try {
        file = file_argument(words, "import", unused);
    } catch (const InputError& e) {
        std::cerr << "drover import: " << e.what() << "\n";
        return 2;
    }
    int fd = 0;
    if (file != "-") {
        fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            std::cerr << "drover import: cannot open " << file << ": " << std::strerror(errno) << "\n";
            return 1;
        }
    }
    db::Connection conn(config.str("database_url"), "drover-import");
    storage::BlobStore blobs(storage::storage_root(config));
    try {
        auto s = import_uploads(conn, blobs, fd);
        if (fd != 0) ::close(fd);
        std::cout << R"({"uploads": )" << s.uploads << R"(, "uploads_skipped": )" << s.uploads_skipped
                  << R"(, "blobs": )" << s.blobs << R"(, "blobs_new": )" << s.blobs_new << "}\n";
        return 0;
    } catch (const std::exception& e) {
        if (fd != 0) ::close(fd);
        std::cerr << "drover import: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace drover::cli
