#pragma once
// Wall-clock time as Drover writes it: RFC 3339 in UTC with microseconds,
// which Postgres reads as timestamptz without ambiguity.
#include <chrono>
#include <string>

namespace drover {

std::string format_rfc3339(std::chrono::system_clock::time_point t);
inline std::string now_rfc3339() { return format_rfc3339(std::chrono::system_clock::now()); }

}  // namespace drover
