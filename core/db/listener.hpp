#pragma once
// A dedicated LISTEN connection. NOTIFY is a hint, not a guarantee: callers
// still poll slowly, and after a reconnect they must assume they missed
// notifications (wait() says so with `reconnected`).
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/db/connection.hpp"

namespace drover::db {

class Listener {
public:
    struct Wakeup {
        std::vector<Notification> notifications;
        bool reconnected = false;   // notifications may have been lost meanwhile
        bool interrupted = false;   // interrupt() was called
    };

    // Runs on every (re)connect, after the LISTENs: e.g. to LISTEN on a
    // channel named after the new backend, or to register it somewhere.
    using OnConnect = std::function<void(Connection&)>;

    Listener(std::string url, std::vector<std::string> channels, OnConnect on_connect = {});
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Blocks until a notification arrives, interrupt() is called or the
    // timeout passes. Connection trouble is handled here: it reconnects with
    // backoff and jitter and LISTENs again, never throwing.
    Wakeup wait(std::chrono::milliseconds timeout);
    // Wakes a wait() from any thread.
    void interrupt();

private:
    bool ensure_connected();

    std::string url_;
    std::vector<std::string> channels_;
    OnConnect on_connect_;
    std::unique_ptr<Connection> conn_;
    int wake_fd_ = -1;
    std::chrono::milliseconds backoff_{100};
};

}  // namespace drover::db
