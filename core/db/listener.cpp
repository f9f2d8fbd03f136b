#include "core/db/listener.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "core/error.hpp"

namespace drover::db {

Listener::Listener(std::string url, std::vector<std::string> channels, OnConnect on_connect)
    : url_(std::move(url)), channels_(std::move(channels)), on_connect_(std::move(on_connect)) {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw Error("eventfd failed");
}

Listener::~Listener() {
    if (wake_fd_ >= 0) close(wake_fd_);
}

void Listener::interrupt() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
}

bool Listener::ensure_connected() {
    if (conn_ && !conn_->broken()) return false;
    conn_.reset();
    auto conn = std::make_unique<Connection>(url_, "drover-listener");
    for (const auto& channel : channels_) {
        conn->exec("LISTEN " + channel);
    }
    if (on_connect_) on_connect_(*conn);
    conn_ = std::move(conn);
    backoff_ = std::chrono::milliseconds(100);
    return true;
}

Listener::Wakeup Listener::wait(std::chrono::milliseconds timeout) {
    Wakeup wakeup;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    try {
        wakeup.reconnected = ensure_connected();
        // Drain first: notifications that came with an earlier result are
        // already buffered, and poll() would sleep past them.
        conn_->consume_input();
        wakeup.notifications = conn_->take_notifications();
        if (!wakeup.notifications.empty() || wakeup.reconnected) return wakeup;

        pollfd fds[2] = {{conn_->socket(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        int ready = poll(fds, 2, static_cast<int>(std::max<long>(0, left.count())));
        if (ready > 0 && (fds[1].revents & POLLIN)) {
            std::uint64_t count;
            [[maybe_unused]] auto n = read(wake_fd_, &count, sizeof count);
            wakeup.interrupted = true;
        }
        if (ready > 0 && fds[0].revents) {
            conn_->consume_input();
            wakeup.notifications = conn_->take_notifications();
        }
    } catch (const DbError& e) {
        conn_.reset();
        static thread_local std::mt19937 rng{std::random_device{}()};
        auto jittered = backoff_ / 2 + std::chrono::milliseconds(
                                           std::uniform_int_distribution<long>(0, backoff_.count())(rng));
        spdlog::warn("listener: {}; reconnecting in {} ms", e.what(), jittered.count());
        auto left = deadline - std::chrono::steady_clock::now();
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(jittered, std::max(left, std::chrono::steady_clock::duration::zero())));
        backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
        wakeup.reconnected = true;
    }
    return wakeup;
}

}  // namespace drover::db
