#pragma once
// drover.workers: which workers wait for work, so that an insert wakes only
// as many as it needs (sql/migrations/20261123000005_wake_idle_workers.sql).
// A worker registers its LISTEN connection and listens on its own channel;
// its claims keep its idle slots up to date (jobs/claim.sql).
#include <string>
#include <vector>

#include "core/db/connection.hpp"

namespace drover {

class WorkerRegistry {
public:
    explicit WorkerRegistry(db::Connection& conn) : conn_(conn) {}

    // On the worker's LISTEN connection: LISTENs on the channel the insert
    // trigger wakes this connection on, then registers it (dropping this
    // worker's earlier registrations and those of connections that are gone).
    void register_listener(const std::string& worker_id, const std::vector<std::string>& queues, int idle_slots);
    // The worker stops: inserts no longer wake it.
    void unregister(const std::string& worker_id);
    // A worker woken for these queues had no slot left for the work: every
    // worker of the queues is told instead (drover_jobs).
    void pass_on_wakeup(const std::vector<std::string>& queues);

    static std::string channel_of(int backend_pid) { return "drover_worker_" + std::to_string(backend_pid); }

private:
    db::Connection& conn_;
};

}  // namespace drover
