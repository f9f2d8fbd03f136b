#include "api/http/connection_registry.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "api/http/reply_writer.hpp"
#include "api/http_error.hpp"
#include "api/metrics.hpp"
#include "api/request_id.hpp"

namespace drover::api::http {

ConnectionRegistry::ConnectionRegistry(ConnectionLimits limits) : limits_(limits) {
    sweeper_ = std::thread([this] { sweep_loop(); });
}

ConnectionRegistry::~ConnectionRegistry() { stop(); }

void ConnectionRegistry::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
}

bool ConnectionRegistry::kill(Entry& entry) {
    auto& state = *entry.state;
    // A peer Pistache has let go of may have had its fd closed (and reused)
    // without a disconnection call: leave such an fd alone.
    auto peer = entry.peer.lock();
    if (!peer || state.gone || state.killed.exchange(true)) return false;
    int fd = state.fd;
    if (fd >= 0 && fd == peer->fd()) ::shutdown(fd, SHUT_RDWR);
    return true;
}

bool ConnectionRegistry::admit(const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                               const std::shared_ptr<ConnectionState>& state) {
    std::lock_guard lock(mutex_);
    bool admitted = true;
    if (entries_.size() - killed_ >= limits_.max_connections) {
        // Close the connection idle for the longest time; busy ones are left alone.
        Entry* idlest = nullptr;
        for (auto& [key, entry] : entries_) {
            auto& s = *entry.state;
            if (s.killed || s.gone || s.in_flight || s.closing || s.partial_since_ms != 0) continue;
            if (!idlest || s.last_activity_ms < idlest->state->last_activity_ms) idlest = &entry;
        }
        if (idlest) {
            if (kill(*idlest)) ++killed_;
        } else {
            admitted = false;
        }
    }
    entries_[peer.get()] = Entry{peer, state};
    return admitted;
}

void ConnectionRegistry::remove(const Pistache::Tcp::Peer* peer) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(peer);
    if (it == entries_.end()) return;
    it->second.state->gone = true;
    if (it->second.state->killed && killed_ > 0) --killed_;
    entries_.erase(it);
}

std::size_t ConnectionRegistry::size() {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void ConnectionRegistry::sweep_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, std::chrono::milliseconds(250));
        if (stopping_) break;
        sweep_once();
    }
}

// A request that stalled gets 408 (as JSON, like every Drover error), then
// the connection is shut down once that is written. Called with mutex_ held,
// which also holds off the disconnection (and so the fd's reuse) should the
// write finish on this thread.
bool ConnectionRegistry::time_out(Entry& entry, bool body) {
    auto& state = *entry.state;
    auto peer = entry.peer.lock();
    if (!peer || state.gone || state.killed.exchange(true)) return false;
    state.closing = true;
    state.closing_since_ms = now_ms();
    RequestContext ctx{next_request_id(), ""};
    auto reply = error_reply(Pistache::Http::Code::Request_Timeout, "request_timeout",
                             body ? "the request body did not arrive in time" : "the request headers did not arrive in time",
                             ctx);
    Metrics::global().record(ctx, static_cast<int>(reply.code));  // route "unmatched", as the guard's refusals
    auto bytes = response_bytes(reply.code, reply.body, reply.headers, ctx.request_id, true);
    auto size = bytes.size();
    std::weak_ptr<ConnectionState> weak_state = entry.state;
    std::weak_ptr<Pistache::Tcp::Peer> weak_peer = peer;
    peer->send(Pistache::RawBuffer(std::move(bytes), size))
        .then(
            [weak_state, weak_peer](ssize_t) {
                auto s = weak_state.lock();
                auto p = weak_peer.lock();
                if (s && p && !s->gone && s->fd == p->fd()) ::shutdown(p->fd(), SHUT_RDWR);
            },
            [](std::exception_ptr) {});
    return true;
}

// Called with mutex_ held.
void ConnectionRegistry::sweep_once() {
    const auto now = now_ms();
    std::size_t idle = 0, stalled = 0, lingering = 0, unread = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.peer.expired()) {
            if (it->second.state->killed && killed_ > 0) --killed_;
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& [key, entry] : entries_) {
        auto& s = *entry.state;
        if (s.killed || s.gone) continue;
        if (s.in_flight) {
            // Busy: left alone, unless it is an answer the client has stopped
            // taking. Such connections were never idle, so enough of them once
            // locked every new client out (503) for as long as they stayed.
            auto writing = s.writing_since_ms.load();
            if (writing != 0 && now - writing > limits_.send_timeout.count()) {
                if (kill(entry)) ++killed_;
                ++unread;
            }
            continue;
        }
        if (s.closing) {
            if (now - s.closing_since_ms > limits_.linger.count()) {
                if (kill(entry)) ++killed_;
                ++lingering;
            }
            continue;
        }
        auto partial = s.partial_since_ms.load();
        if (partial != 0) {
            auto limit = s.partial_head_complete ? limits_.body_timeout : limits_.header_timeout;
            if (now - partial > limit.count()) {
                if (time_out(entry, s.partial_head_complete)) ++killed_;
                ++stalled;
            }
            continue;
        }
        if (now - s.last_activity_ms > limits_.keepalive_timeout.count()) {
            if (kill(entry)) ++killed_;
            ++idle;
        }
    }
    if (idle + stalled + lingering + unread > 0) {
        spdlog::debug("closed {} idle, {} stalled, {} lingering connections and {} whose answers were not read", idle,
                      stalled, lingering, unread);
    }
}

}  // namespace drover::api::http
