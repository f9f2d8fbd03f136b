#pragma once
// What Postgres will store. A `text` value must be valid UTF-8 without NUL,
// and a `jsonb` value cannot hold "\u0000" nor an unpaired surrogate; a job's
// output that breaks either rule would fail the statement that writes it, and
// with it every other job's output in the same round. Job output is made
// storable before it is queued for the database.
#include <optional>
#include <string>
#include <string_view>

namespace drover {

// True when `text` is valid UTF-8 (no overlong forms, no surrogates, nothing
// past U+10FFFF) and has no NUL.
bool is_storable_text(std::string_view text);
// `text` with every byte that breaks those rules replaced by U+FFFD: a
// maximal invalid sequence becomes one U+FFFD, a NUL becomes one U+FFFD.
std::string storable_text(std::string_view text);
// Cut at most `max_bytes` from the front of `text` without splitting a UTF-8
// sequence (when `text` is valid UTF-8).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);
// Why Postgres jsonb would refuse `json_text`, or nothing when it is storable.
std::optional<std::string> jsonb_refusal(std::string_view json_text);

}  // namespace drover
