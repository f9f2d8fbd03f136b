#pragma once
// The line protocol a command job speaks on file descriptor 3
// (DROVER_CONTROL_FD) to report while it runs:
//   progress <percent 0-100> [message]   shown on the job at once
//   result <json>                        stored as the job's result when it succeeds
//   snooze <seconds 1-86400>             when it exits: run again after that long, no attempt used
// Anything else is logged as ignored; the job goes on.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace drover::worker {

struct ProgressLine {
    int percent = 0;
    std::optional<std::string> message;
};
struct ResultLine {
    std::string json;
};
struct SnoozeLine {
    int seconds = 0;
};
struct BadLine {
    std::string why;
};
using ControlLine = std::variant<ProgressLine, ResultLine, SnoozeLine, BadLine>;

ControlLine parse_control_line(std::string_view line);

}  // namespace drover::worker
