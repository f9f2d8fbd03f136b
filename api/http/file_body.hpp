#pragma once
// Streamed bodies (see BodySource in api/reply.hpp): a stored file or a part
// of it, and a zip of several stored files built as it is sent.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/reply.hpp"

namespace drover::api::http {

// How much a download holds in memory at once.
constexpr std::size_t kStreamChunk = 256 * 1024;

// `count` bytes of the file at `path` from `first`. The file is opened now,
// so a missing file is an error before any header is sent; a file shorter
// than promised aborts the answer.
std::shared_ptr<BodySource> file_body(const std::filesystem::path& path, std::int64_t first, std::int64_t count);

struct ZipMember {
    std::string name;  // path inside the zip
    std::filesystem::path path;
    std::int64_t size = 0;
};
// A zip (entries stored, not compressed: most outputs are compressed already
// and the reactor thread pays for every byte deflated) of `members`, built a
// chunk at a time. Its length is not known in advance: send it chunked.
std::shared_ptr<BodySource> zip_body(std::vector<ZipMember> members);

}  // namespace drover::api::http
