#pragma once
// drover submit --file DIR: the folder as a zip, made with libarchive.
// Only regular files and folders go in, as the API accepts nothing else:
// symbolic links (even to files inside), devices, FIFOs and sockets are left
// out and named in `skipped`. A name the API would refuse (a backslash, a
// colon, invalid UTF-8) fails the whole zip before anything is uploaded.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace drover::cli {

struct ZippedFolder {
    std::uint64_t files = 0;
    std::uint64_t folders = 0;
    std::uint64_t bytes = 0;           // file data, uncompressed
    std::vector<std::string> skipped;  // "name (symbolic link)"
};

// Writes the zip of `folder` (names relative to it, sorted) to `zip_path`.
// Throws ConfigError for a folder that cannot be read or a name the API would refuse.
ZippedFolder zip_folder(const std::filesystem::path& folder, const std::filesystem::path& zip_path);

}  // namespace drover::cli
