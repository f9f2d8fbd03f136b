#pragma once
#include <chrono>
#include <functional>

namespace drover::test {

// Polls `condition` every few milliseconds until it holds or `timeout`
// passes; returns whether it held. Tests assert on the result.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace drover::test
