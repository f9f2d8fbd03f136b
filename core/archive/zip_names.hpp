#pragma once
// The rules for names of entries in an uploaded zip and of files left in a
// job's outbound/ folder, without libarchive (so that drover-worker, which
// must not load libarchive and the shared libstdc++ it pulls in, can use them).
#include <string>
#include <string_view>

namespace drover::archive {

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool valid_utf8(std::string_view s);
// Why a path is unsafe (empty, absolute, a `.`/`..`/empty component, a
// backslash, a colon, NUL, invalid UTF-8), or "" when it is fine. A trailing
// '/' is allowed when `directory`.
std::string name_reason(std::string_view name, bool directory);
// The same for any name, a trailing '/' allowed.
std::string unsafe_name_reason(std::string_view name);

}  // namespace drover::archive
