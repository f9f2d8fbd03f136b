#pragma once
// Builds zip archives byte by byte for tests, including the malformed and
// hostile ones no well-behaved tool would write: names with NUL bytes or
// invalid UTF-8, symlinks, devices and FIFOs (by their Unix mode), sizes
// that lie, deflate bombs, truncated archives.
#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace drover::test {

struct ZipEntry {
    std::string name;  // raw bytes, written as they are
    std::string data;
    unsigned mode = S_IFREG | 0644;  // Unix mode, in the external attributes
    bool deflate = false;
    // Declared sizes when they should lie (default: the true ones).
    std::optional<std::uint32_t> declared_size;
};

class ZipBuilder {
public:
    ZipBuilder& file(std::string name, std::string data, bool deflate = false);
    ZipBuilder& dir(std::string name);  // "name/" with a folder mode
    ZipBuilder& add(ZipEntry entry);
    std::string bytes() const;

private:
    std::vector<ZipEntry> entries_;
};

}  // namespace drover::test
