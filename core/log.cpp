#include "core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/error.hpp"

namespace drover {

void init_logging(const std::string& process_name, const std::string& level) {
    auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off") {
        throw ConfigError("DROVER_LOG_LEVEL must be trace, debug, info, warn, error or off, got '" + level + "'");
    }
    spdlog::drop(process_name);  // tests may initialise logging more than once
    auto logger = spdlog::stderr_logger_mt(process_name);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n[%P] %v");
    logger->set_level(parsed);
    spdlog::set_default_logger(logger);
}

}  // namespace drover
