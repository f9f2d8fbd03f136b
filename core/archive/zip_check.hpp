#pragma once
// Checking and extracting untrusted zips (uploads). Nothing here trusts what
// the archive says about itself:
//  - names are checked raw, from the central directory, before libarchive
//    (which cuts a name at a NUL byte): no NUL, valid UTF-8;
//  - then, entry by entry through libarchive: only regular files and
//    directories (no symlinks, hard links, devices, FIFOs), no empty,
//    absolute, `.`/`..`, backslash or colon path components, no encryption;
//  - the entry count and the total uncompressed size are counted from what
//    is actually read (declared sizes can lie), and reading stops at the cap.
// Extraction goes to a temporary folder next to the destination, renamed to
// it only when every entry was written; on any failure the temporary folder
// is removed, so nothing half-written is left.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/archive/zip_names.hpp"
#include "core/error.hpp"

namespace drover::archive {

struct ZipLimits {
    std::uint64_t max_entries = 10000;
    std::uint64_t max_uncompressed_bytes = 1ull << 30;
};

struct ZipSummary {
    std::uint64_t entries = 0;            // files and directories
    std::uint64_t uncompressed_size = 0;  // bytes of file data actually read
};

// Why a zip was refused: code is stable (not_a_zip, corrupt_zip,
// too_many_entries, too_large_uncompressed, unsafe_path, invalid_name,
// unsupported_entry, encrypted_entry), the message names the entry.
class ZipRejected : public InputError {
public:
    ZipRejected(std::string code, std::string message)
        : InputError(InputError::Kind::invalid, std::move(code), std::move(message), "body") {}
};

// Reads the whole zip in `bytes` without writing anything; throws ZipRejected.
ZipSummary check_zip(std::string_view bytes, const ZipLimits& limits);

// The same for a zip file (read a block at a time, never held in memory).
ZipSummary check_zip_file(const std::filesystem::path& zip, const ZipLimits& limits);

// Extracts the zip file at `zip` into `destination`, which must not exist
// yet (its parent must). Throws ZipRejected (nothing left behind) or Error.
ZipSummary extract_zip(const std::filesystem::path& zip, const std::filesystem::path& destination,
                       const ZipLimits& limits);


}  // namespace drover::archive
