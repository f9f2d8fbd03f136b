#include "core/archive/zip_names.hpp"

#include <cstdint>

namespace drover::archive {

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        int n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
        if (n < 0 || i + n >= s.size()) return false;  // a bad lead byte, or a sequence cut short
        std::uint32_t cp = n == 0 ? c : c & (0x3F >> n);
        for (int k = 1; k <= n; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and code points past U+10FFFF.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

// "a/b/" → "a/b"; returns why a name is unsafe, or "".
std::string name_reason(std::string_view name, bool directory) {
    if (directory && !name.empty() && name.back() == '/') name.remove_suffix(1);
    if (name.empty()) return "an entry has an empty name";
    if (name.front() == '/') return "absolute path";
    if (name.find('\\') != std::string_view::npos) return "backslash in the name";
    if (name.find(':') != std::string_view::npos) return "colon in the name";
    if (name.find('\0') != std::string_view::npos) return "NUL byte in the name";
    if (!valid_utf8(name)) return "name is not valid UTF-8";
    std::size_t start = 0;
    for (;;) {
        auto slash = name.find('/', start);
        auto part = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part.empty()) return "empty path component";
        if (part == "." || part == "..") return "'" + std::string(part) + "' path component";
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return {};
}

std::string unsafe_name_reason(std::string_view name) { return name_reason(name, true); }

}  // namespace drover::archive
