#include "worker/executors/control_protocol.hpp"

#include <charconv>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/storable.hpp"

namespace drover::worker {
namespace {

std::optional<int> parse_int(std::string_view s, int lo, int hi) {
    int n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr != s.data() + s.size() || n < lo || n > hi) return std::nullopt;
    return n;
}

}  // namespace

ControlLine parse_control_line(std::string_view line) {
    auto space = line.find(' ');
    std::string_view verb = line.substr(0, space);
    std::string_view rest = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    if (verb == "progress") {
        auto sp = rest.find(' ');
        auto percent = parse_int(rest.substr(0, sp), 0, 100);
        if (!percent) return BadLine{"progress needs a percent from 0 to 100"};
        ProgressLine p{*percent, std::nullopt};
        if (sp != std::string_view::npos) p.message = std::string(rest.substr(sp + 1));
        return p;
    }
    if (verb == "result") {
        try {
            json::parse(rest);
        } catch (const InputError&) {
            return BadLine{"result is not valid JSON"};
        }
        if (auto why = jsonb_refusal(rest)) return BadLine{"result cannot be stored: " + *why};
        return ResultLine{std::string(rest)};
    }
    if (verb == "snooze") {
        auto seconds = parse_int(rest, 1, 86400);
        if (!seconds) return BadLine{"snooze needs seconds from 1 to 86400"};
        return SnoozeLine{*seconds};
    }
    return BadLine{"unknown control line"};
}

}  // namespace drover::worker
