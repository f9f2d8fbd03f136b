#include "cli/commands/rescue_command.hpp"

#include <iostream>

#include "core/db/connection.hpp"
#include "core/kinds.hpp"
#include "core/sweeps/lease_rescuer.hpp"

namespace drover::cli {

int rescue_command(const Config& config) {
    db::Connection conn(config.str("database_url"), "drover-rescue");
    // The kinds file, when given, supplies the kinds' own retry backoff.
    auto kinds = KindRegistry::load(config.str("kinds_file"));
    auto result = LeaseRescuer::run_once(conn, kinds.backoffs());
    std::cout << "{\"ran\":" << (result.ran ? "true" : "false") << ",\"rescued\":" << result.rescued << "}\n";
    return 0;
}

}  // namespace drover::cli
