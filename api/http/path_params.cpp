#include "api/http/path_params.hpp"

#include <charconv>
#include <string>

#include "core/error.hpp"

namespace drover::api {

std::int64_t path_id(const Pistache::Rest::Request& request, const char* what, const char* param) {
    auto text = request.param(param).as<std::string>();
    std::int64_t id = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) throw NotFound(std::string("no such ") + what);
    return id;
}

}  // namespace drover::api
