#pragma once
// Every open client connection of the API process, and a sweeper thread that
// closes the ones that overstay: an idle keep-alive connection after
// keepalive_timeout, a request still incomplete after the header (10 s) or
// body (30 s) timeout (answered 408 request_timeout first), a connection
// answered with `Connection: close` whose client does not hang up after
// `linger`, and one whose client stopped reading its answer (a download
// it does not take) after `send_timeout`. Pistache 0.0.5 has no such limits
// once a connection has been answered: 1,001 idle connections once held
// every file descriptor of the process.
//
// It also caps the connections: past `max_connections`, a new connection
// closes the idlest one, or gets 503 when none is idle.
//
// Closing means ::shutdown(fd, SHUT_RDWR): Pistache's reactor then reads end
// of file and closes the connection on its own thread, as if the client had.
// The fd is only touched under the registry's mutex, and a connection leaves
// the registry in onDisconnection, before Pistache closes (and may reuse) it.
#include <pistache/peer.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "api/http/connection_state.hpp"

namespace drover::api::http {

struct ConnectionLimits {
    std::size_t max_connections = 10000;
    std::chrono::milliseconds keepalive_timeout{15000};
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::milliseconds body_timeout{30000};
    std::chrono::milliseconds linger{10000};
    std::chrono::milliseconds send_timeout{60000};
};

class ConnectionRegistry {
public:
    explicit ConnectionRegistry(ConnectionLimits limits);
    ~ConnectionRegistry();
    ConnectionRegistry(const ConnectionRegistry&) = delete;
    ConnectionRegistry& operator=(const ConnectionRegistry&) = delete;

    // Records a new connection. False when the process is full and no idle
    // connection could be closed to make room: the caller refuses it.
    bool admit(const std::shared_ptr<Pistache::Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& state);
    void remove(const Pistache::Tcp::Peer* peer);
    std::size_t size();
    const ConnectionLimits& limits() const { return limits_; }

    void stop();

private:
    struct Entry {
        std::weak_ptr<Pistache::Tcp::Peer> peer;
        std::shared_ptr<ConnectionState> state;
    };
    void sweep_loop();
    void sweep_once();
    static bool kill(Entry& entry);  // false when already killed or gone
    static bool time_out(Entry& entry, bool body);  // 408, then shut down

    ConnectionLimits limits_;
    std::mutex mutex_;
    std::unordered_map<const Pistache::Tcp::Peer*, Entry> entries_;
    std::size_t killed_ = 0;  // entries shut down, waiting for their disconnection
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread sweeper_;
};

}  // namespace drover::api::http
