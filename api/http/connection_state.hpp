#pragma once
// What Drover knows about one client connection, shared by the request guard
// (which feeds Pistache one whole request at a time), the reply writer (which
// answers it) and the connection registry (which closes idle connections).
//
// The reactor thread and the database threads both touch it: `mutex` guards
// the plain members; the atomics are also read by the registry's sweeper
// without the mutex.
#include <pistache/peer.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/http/request_body.hpp"
#include "core/crypto.hpp"

namespace drover::api::http {

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct ConnectionState {
    std::recursive_mutex mutex;
    // Guarded by mutex.
    std::string pending;        // bytes received and not yet handed to Pistache
    bool pumping = false;       // the guard is handing requests over (re-entry guard)
    bool dispatched = false;    // Pistache parsed the request and called the router
    bool close_after = false;   // the request in flight ends the connection
    bool head_method = false;   // the request in flight is a HEAD: its answer has no body
    bool continue_sent = false; // "100 Continue" went out for the request being received
    std::size_t dropped = 0;    // bytes read and thrown away while closing
    bool read_shut = false;
    std::function<void(bool close)> on_written;  // set by the guard; any thread
    // A large upload body the guard reads itself, up to 1 MiB per read,
    // instead of passing it through Pistache's parser 4 KiB at a time
    // (api/http/request_body.hpp): the body being received,
    // its expected size, its hash so far, and its request's header block.
    std::shared_ptr<RequestBody> spool;
    std::size_t spool_size = 0;  // the body's size (Content-Length); `spool` holds what arrived
    std::unique_ptr<crypto::Sha256Stream> spool_hash;
    std::string spool_head;
    bool spool_close = false;
    // The spooled body of the request in flight, for its handler to take.
    std::shared_ptr<const RequestBody> spooled_body;

    // Also read by the sweeper without the mutex.
    std::atomic<int> fd{-1};
    std::atomic<bool> in_flight{false};  // a request was handed over; its answer is not written yet
    std::atomic<bool> closing{false};    // answered with Connection: close (or refused); draining
    std::atomic<bool> gone{false};       // Pistache reported the disconnection: the fd may be reused
    std::atomic<bool> killed{false};     // shut down by the registry
    std::atomic<std::int64_t> last_activity_ms{now_ms()};
    std::atomic<std::int64_t> writing_since_ms{0};  // a write the client has not taken yet was queued then (0: none)
    std::atomic<std::int64_t> partial_since_ms{0};  // 0: no partial request buffered
    std::atomic<bool> partial_head_complete{false};
    std::atomic<std::int64_t> closing_since_ms{0};
};

constexpr const char* kConnectionStateKey = "drover.connection";

inline std::shared_ptr<ConnectionState> connection_state(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    if (!peer) return nullptr;
    return std::static_pointer_cast<ConnectionState>(peer->tryGetData(kConnectionStateKey));
}

}  // namespace drover::api::http
