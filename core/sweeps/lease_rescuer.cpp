#include "core/sweeps/lease_rescuer.hpp"

#include <spdlog/spdlog.h>

#include "core/store/job_store.hpp"

namespace drover {

namespace {
// Any constant works; it only has to be the same in every Drover process.
constexpr const char* rescue_lock = "SELECT pg_try_advisory_xact_lock(7245019387)";
}  // namespace

RescueResult LeaseRescuer::run_once(db::Connection& conn, const std::map<std::string, Backoff>& backoffs, int batch,
                                    int max_batches, const std::optional<std::string>& now) {
    RescueResult result;
    JobStore store(conn);
    for (int i = 0; i < max_batches; ++i) {
        int rescued = db::in_transaction(conn, [&] {
            if (!conn.exec(rescue_lock).boolean(0, 0)) return -1;
            return store.rescue_expired(batch, now, backoffs);
        });
        if (rescued < 0) return result;
        result.ran = true;
        result.rescued += rescued;
        if (rescued < batch) break;
    }
    if (result.rescued > 0) spdlog::info("rescue: {} jobs with expired leases put back", result.rescued);
    return result;
}

}  // namespace drover
