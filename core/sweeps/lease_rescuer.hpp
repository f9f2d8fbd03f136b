#pragma once
// The lease rescue sweep: jobs whose worker stopped renewing its lease go
// back to pending (or failed, or cancelled). Workers run it on a schedule, one
// at a time across all hosts (a transaction-level advisory lock), and
// `drover rescue` runs it by hand. Running it twice is harmless.
#include <map>
#include <optional>
#include <string>

#include "core/db/connection.hpp"
#include "core/kinds.hpp"

namespace drover {

struct RescueResult {
    bool ran = false;  // false: another process holds the rescue lock right now
    int rescued = 0;
};

class LeaseRescuer {
public:
    // Rescues in batches of `batch` until none is left or `max_batches` ran.
    // `backoffs`: the kinds' own retry backoff (KindRegistry::backoffs()).
    static RescueResult run_once(db::Connection& conn, const std::map<std::string, Backoff>& backoffs = {},
                                 int batch = 1000, int max_batches = 10,
                                 const std::optional<std::string>& now = std::nullopt);
};

}  // namespace drover
