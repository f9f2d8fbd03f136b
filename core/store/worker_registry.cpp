#include "core/store/worker_registry.hpp"

namespace drover {

void WorkerRegistry::register_listener(const std::string& worker_id, const std::vector<std::string>& queues,
                                       int idle_slots) {
    // Listening first: from the moment the row is visible, a wake-up finds us.
    conn_.exec("LISTEN " + channel_of(PQbackendPID(conn_.native())));
    conn_.pipeline({{"workers/forget_stale", db::Params().add(worker_id)},
                    {"workers/register", db::Params().add(worker_id).add(queues).add(idle_slots)}});
}

void WorkerRegistry::unregister(const std::string& worker_id) {
    conn_.query("workers/unregister", db::Params().add(worker_id));
}

void WorkerRegistry::pass_on_wakeup(const std::vector<std::string>& queues) {
    conn_.query("workers/pass_on_wakeup", db::Params().add(queues));
}

}  // namespace drover
