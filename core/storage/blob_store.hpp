#pragma once
// The storage root (DROVER_STORAGE_DIR): content-addressed files. A blob's
// path is derived from its sha256 (root/blobs/ab/cd/abcd…), so equal content
// is one file. Writes go to a temp file under root/tmp (same filesystem),
// are fsynced, then renamed into place and the folder fsynced: a blob path
// holds either nothing or the whole content. The database row that names a
// blob is committed only after place() returned (see UploadStore).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/crypto.hpp"

namespace drover::storage {

// A file being written under <root>/tmp: bytes are appended and hashed as
// they come; finish() fsyncs it. Removed on destruction unless moved into
// place (BlobStore::adopt) first.
class TempFile {
public:
    explicit TempFile(const std::filesystem::path& dir);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    void append(std::string_view bytes);
    // fsyncs and closes; returns the sha256 (lower-case hex) of everything appended.
    std::string finish();
    const std::filesystem::path& path() const { return path_; }
    std::uint64_t size() const { return size_; }
    void release() { path_.clear(); }  // moved elsewhere: nothing to remove

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    crypto::Sha256Stream hash_;
};

class BlobStore {
public:
    explicit BlobStore(std::filesystem::path root);

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path path_of(const std::string& sha256) const;
    bool exists(const std::string& sha256) const;

    // Stores `bytes` as blob `sha256` (the caller computed it) unless it is
    // already there. Returns true when this call created the file.
    bool put(const std::string& sha256, std::string_view bytes);
    // A finished TempFile (made in temp_dir()) becomes blob `sha256`, unless
    // it is already there (the temp file is then removed). True when this
    // call created the blob.
    bool adopt(TempFile& file, const std::string& sha256);
    // A finished, fsynced file elsewhere under the root (a parted upload's
    // data file) becomes blob `sha256` as a second name (a hard link: no copy),
    // unless the blob exists already. The file keeps its first name until the
    // caller removes it: a crash before the upload's commit loses nothing.
    bool link(const std::filesystem::path& file, const std::string& sha256);
    std::filesystem::path temp_dir() const { return root_ / "tmp"; }
    // Removes a blob's file; false when there was none.
    bool remove(const std::string& sha256);
    // Temp files left by a crash mid-write, older than `age`, removed; returns how many.
    std::size_t remove_stale_temp_files(std::chrono::seconds age);

private:
    std::filesystem::path root_;
};

// DROVER_STORAGE_DIR, else <DROVER_STATE_DIR or $HOME/.local/share/drover>/storage.
std::filesystem::path storage_root(const Config& config);

// Writes all of `bytes` to `fd` (at `offset` with pwrite, or at the file
// position when negative); throws Error naming `path`.
void write_all(int fd, std::string_view bytes, const std::filesystem::path& path, std::int64_t offset = -1);

// fsyncs a folder, so that the names created in it last.
void fsync_folder(const std::filesystem::path& folder);

// Lower-case hex SHA-256 of a file's bytes; throws Error when it cannot be read.
std::string sha256_of_file(const std::filesystem::path& path);

// Lower-case hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

}  // namespace drover::storage
