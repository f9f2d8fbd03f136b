#include "api/request_id.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>

namespace drover::api {

std::string next_request_id() {
    static const std::string prefix = [] {
        std::random_device rd;
        char buf[9];
        std::snprintf(buf, sizeof buf, "%08x", rd());
        return std::string(buf);
    }();
    static std::atomic<std::uint64_t> counter{0};
    return prefix + "-" + std::to_string(++counter);
}

}  // namespace drover::api
