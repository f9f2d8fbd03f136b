#include "worker/sweeper.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <random>

#include "core/db/connection.hpp"
#include "core/error.hpp"
#include "core/sweeps/lease_rescuer.hpp"

namespace drover::worker {

Sweeper::Sweeper(std::string database_url, std::chrono::milliseconds interval, std::map<std::string, Backoff> backoffs,
                 std::function<void()> local_sweep, std::optional<StorageSweepSettings> storage,
                 std::chrono::milliseconds storage_interval)
    : database_url_(std::move(database_url)),
      interval_(interval),
      backoffs_(std::move(backoffs)),
      local_sweep_(std::move(local_sweep)),
      storage_(std::move(storage)),
      storage_interval_(storage_interval) {}

Sweeper::~Sweeper() { stop(); }

void Sweeper::start() {
    if (!thread_.joinable() && interval_.count() > 0) thread_ = std::thread([this] { loop(); });
}

void Sweeper::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Sweeper::loop() {
    std::mt19937 rng{std::random_device{}()};
    std::unique_ptr<db::Connection> conn;
    // The first storage sweep runs one jittered storage interval after start.
    auto storage_due = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(std::uniform_int_distribution<long>(
                           storage_interval_.count() * 8 / 10, storage_interval_.count() * 12 / 10 + 1)(rng));
    for (;;) {
        auto pause = std::chrono::milliseconds(
            std::uniform_int_distribution<long>(interval_.count() * 8 / 10, interval_.count() * 12 / 10)(rng));
        {
            std::unique_lock lock(mutex_);
            if (wake_.wait_for(lock, pause, [&] { return stopping_; })) return;
        }
        try {
            if (local_sweep_) local_sweep_();
        } catch (const std::exception& e) {
            spdlog::warn("sweep: {}", e.what());
        }
        try {
            if (!conn || conn->broken()) {
                conn.reset();
                conn = std::make_unique<db::Connection>(database_url_, "drover-sweeper");
            }
            LeaseRescuer::run_once(*conn, backoffs_);
            if (storage_ && storage_interval_.count() > 0 && std::chrono::steady_clock::now() >= storage_due) {
                storage_due = std::chrono::steady_clock::now() + storage_interval_;
                for (const auto& [name, c] : run_storage_sweeps(*conn, *storage_)) {
                    if (c.records > 0 || c.blobs > 0 || c.files_deleted > 0) {
                        spdlog::info("storage sweep {}: {} record(s), {} blob(s) dropped, {} file(s) deleted", name,
                                     c.records, c.blobs, c.files_deleted);
                    }
                }
            }
        } catch (const std::exception& e) {
            // Whatever went wrong, the next interval tries again on a new connection.
            spdlog::warn("sweep: {}", e.what());
            conn.reset();
        }
    }
}

}  // namespace drover::worker
