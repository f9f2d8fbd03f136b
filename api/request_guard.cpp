#include "api/request_guard.hpp"

#include <pistache/async.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "api/http/connection_registry.hpp"
#include "api/http/reply_writer.hpp"
#include "api/http/request_scan.hpp"
#include "api/http_error.hpp"
#include "api/metrics.hpp"
#include "api/request_id.hpp"

namespace drover::api {

using namespace Pistache;

namespace {

// ---------------------------------------------------------------------------
// Two private members of Pistache 0.0.5 that no public API reaches:
//  - Tcp::Handler::transport_: only Tcp::Transport may set it (a friend), and
//    only on the handler it was built with, i.e. on the guard. The router's
//    handler behind the guard needs it too: it builds its ResponseWriters
//    from transport().
//  - Rest::Router::routes: the route table, to tell "wrong method on a known
//    path" (405) from "no such path" (404) the way Router::route() does.
// Naming a private member in an explicit instantiation is allowed
// ([temp.spec.general]/6); the types below are checked by the compiler, so
// a Pistache upgrade that changes them fails to build instead of misbehaving.
template <typename Tag, typename Tag::type Member>
struct PrivateMember {
    friend typename Tag::type member_of(Tag) { return Member; }
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-template-friend"
struct HandlerTransport {
    using type = Tcp::Transport* Tcp::Handler::*;
    friend type member_of(HandlerTransport);
};
struct RouterRoutes {
    using type = std::unordered_map<Http::Method, Rest::SegmentTreeNode> Rest::Router::*;
    friend type member_of(RouterRoutes);
};
#pragma GCC diagnostic pop

template struct PrivateMember<HandlerTransport, &Tcp::Handler::transport_>;
template struct PrivateMember<RouterRoutes, &Rest::Router::routes>;

// ---------------------------------------------------------------------------


// After a refusal or a `Connection: close` answer the guard reads and drops
// what the client still sends, so that a client that writes a whole body
// before reading gets its answer instead of a reset; past this many bytes it
// stops reading (the close may then reset the connection).
constexpr std::size_t kDrainLimit = 64u << 20;

// A body of an upload route (RequestLimits::large) at least this large is
// spooled: the guard reads it itself, up to 1 MiB per read from the socket,
// into one buffer that grows with what arrives, and hands Pistache the header
// block alone (Content-Length: 0). Pistache 0.0.5 reads 4 KiB per recv() and runs its
// parser over every byte; an 8 MiB part cost ~2,000 reads and five copies.
constexpr std::size_t kSpoolMinBytes = 256u << 10;
constexpr std::size_t kSpoolReadBytes = 1u << 20;  // the largest read into a spooled body

using http::ConnectionState;
using http::now_ms;
using http::Refusal;
using http::scan_request;
using http::Scan;

Tcp::Handler& as_tcp(Http::Handler& handler) { return handler; }

// The router's handler, marking each request Pistache parsed whole as
// dispatched: the guard then expects Drover's own answer (send_reply) for
// it. A request Pistache refused itself never gets here.
class Dispatch final : public Http::Handler {
public:
    HTTP_PROTOTYPE(Dispatch)

    explicit Dispatch(std::shared_ptr<Rest::Router> router) : router_(std::move(router)) {}

    void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
        if (auto state = http::connection_state(response.getPeer())) {
            std::lock_guard lock(state->mutex);
            state->dispatched = true;
        }
        router_->route(request, std::move(response));
    }

private:
    std::shared_ptr<Rest::Router> router_;
};

class RequestGuard final : public Http::Handler {
public:
    RequestGuard(std::shared_ptr<Http::Handler> inner, std::shared_ptr<http::ConnectionRegistry> registry,
                 RequestLimits limits)
        : inner_(std::move(inner)), registry_(std::move(registry)), limits_(std::move(limits)) {}

    // Pistache clones the handler once per reactor thread: each clone gets a
    // clone of the router's handler of its own.
    std::shared_ptr<Tcp::Handler> clone() const override {
        auto copy = std::make_shared<RequestGuard>(*this);
        copy->inner_ = std::static_pointer_cast<Http::Handler>(inner_->clone());
        copy->attached_ = false;
        return copy;
    }

    // Never called: onInput() hands the bytes to the router's handler, whose
    // own onInput() parses them and calls its onRequest().
    void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
        inner_->onRequest(request, std::move(response));
    }

    void onTimeout(const Http::Request& request, Http::ResponseWriter response) override {
        inner_->onTimeout(request, std::move(response));
    }

    void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
        if (auto state = http::connection_state(peer)) {
            state->gone = true;
            std::lock_guard lock(state->mutex);
            state->pending = std::string();
            end_spool(*state);
            state->spooled_body.reset();
        }
        registry_->remove(peer.get());
        as_tcp(*inner_).onDisconnection(peer);
    }

private:
    void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
        attach();
        auto state = std::make_shared<ConnectionState>();
        state->fd = peer->fd();
        std::weak_ptr<Tcp::Peer> weak = peer;
        std::weak_ptr<ConnectionState> weak_state = state;
        // Runs once an answer is written, on whichever thread saw it written.
        state->on_written = [this, weak, weak_state](bool close) {
            auto p = weak.lock();
            auto s = weak_state.lock();
            if (p && s) written(p, s, close);
        };
        peer->putData(http::kConnectionStateKey, state);
        as_tcp(*inner_).onConnection(peer);  // puts Pistache's parser on the peer
        if (!registry_->admit(peer, state)) {
            std::lock_guard lock(state->mutex);
            refuse(peer, state,
                   {Http::Code::Service_Unavailable, "too_many_connections",
                    "this server has too many open connections; try again"});
        }
    }

    void onInput(const char* data, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
        attach();
        auto state = http::connection_state(peer);
        if (!state) return;
        std::lock_guard lock(state->mutex);
        state->last_activity_ms = now_ms();
        if (state->closing) {
            drop(peer, *state, len);
            return;
        }
        const std::size_t max = largest_request();
        if (state->pending.size() + len > max + 2 * 65536) {
            // More pipelined bytes than one whole request can hold behind the
            // one in flight: answer that one, then close (clients retry what
            // was not answered).
            state->pending = std::string();
            if (state->in_flight) {
                state->close_after = true;
                state->closing = true;
                state->closing_since_ms = now_ms();
            } else {
                refuse(peer, state,
                       {Http::Code::Request_Entity_Too_Large, "request_too_large",
                        "the request is over the limit of " + std::to_string(max) + " bytes"});
            }
            return;
        }
        state->pending.append(data, len);
        pump(peer, state, true);
    }

    // Hands the requests waiting in `pending` to Pistache one at a time: the
    // next only once the answer to the previous one is written, so pipelined
    // requests are answered in order (Pistache 0.0.5 dropped all but the
    // first). Called with the state's mutex held.
    // `on_reactor`: called from onInput, on the reactor thread that reads the
    // socket (only that thread may read it, or bytes could come out of order).
    void pump(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& state,
              bool on_reactor) {
        if (state->pumping) return;  // an answer written during a hand-over: the loop below goes on
        state->pumping = true;
        while (!state->in_flight && !state->closing && !state->gone) {
            auto& pending = state->pending;
            if (state->spool) {
                if (!fill_spool(peer, *state, on_reactor)) break;  // the rest of the body is still to come
                auto head = http::without_body(state->spool_head);
                bool close = state->spool_close;
                state->spool->sha256 = state->spool_hash->hex();
                state->spooled_body = std::move(state->spool);
                end_spool(*state);
                hand_over(peer, state, std::move(head), close);
                continue;
            }
            // Empty lines before a request line are to be ignored (RFC 9112 2.2).
            std::size_t blank = 0;
            while (pending.size() >= blank + 2 && pending[blank] == '\r' && pending[blank + 1] == '\n') blank += 2;
            if (blank > 0) pending.erase(0, blank);
            if (pending.empty()) {
                state->partial_since_ms = 0;
                break;
            }
            Scan scan = scan_request(pending, request_max(pending));
            if (scan.refusal) {
                refuse(peer, state, std::move(*scan.refusal));
                break;
            }
            if (scan.size == 0) {
                if (state->partial_since_ms == 0) state->partial_since_ms = now_ms();
                state->partial_head_complete = scan.head_complete;
                // The headers are fine: the client may send the body now
                // (curl otherwise waits a second before a large body).
                if (scan.expect_continue && !state->continue_sent) {
                    state->continue_sent = true;
                    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
                    peer->send(RawBuffer(kContinue, kContinue.size()));
                }
                if (scan.head_complete && scan.body_size >= kSpoolMinBytes && spooled_route(pending)) {
                    state->spool_head = pending.substr(0, scan.head_size);
                    state->spool_close = scan.close;
                    // Memory grows with the bytes that arrive, never with what
                    // Content-Length claims (a client may claim and not send).
                    state->spool = std::make_shared<http::RequestBody>();
                    state->spool_size = static_cast<std::size_t>(scan.body_size);  // the size expected
                    state->spool_hash = std::make_unique<crypto::Sha256Stream>();
                    pending.erase(0, scan.head_size);
                    continue;  // the loop above fills it
                }
                break;
            }
            std::string request = pending.substr(0, scan.size);
            pending.erase(0, scan.size);
            hand_over(peer, state, std::move(request), scan.close);
        }
        state->pumping = false;
    }

    // Moves what `pending` holds of the spooled body into it, then, on the
    // reactor thread, reads the rest straight from the socket until it would
    // block (the reactor calls onInput again when more comes; an end of file
    // or an error is left to Pistache's own read, which reports it). True
    // once the body is whole. The hash is computed here, as the bytes come,
    // so that the client's sending and the hashing overlap.
    static bool fill_spool(const std::shared_ptr<Tcp::Peer>& peer, ConnectionState& state, bool on_reactor) {
        auto& body = state.spool->bytes;
        const std::size_t expected = state.spool_size;
        auto add = [&](const char* data, std::size_t n) {
            if (body.capacity() < body.size() + n) {
                body.reserve(std::min(expected, std::max(2 * body.capacity(), body.size() + n)));
            }
            body.append(data, n);
            state.spool_hash->update(std::string_view(data, n));
        };
        auto& pending = state.pending;
        auto take = std::min(pending.size(), expected - body.size());
        add(pending.data(), take);
        pending.erase(0, take);
        if (on_reactor && body.size() < expected) {
            thread_local std::unique_ptr<char[]> scratch(new char[kSpoolReadBytes]);
            while (body.size() < expected) {
                auto n = ::recv(peer->fd(), scratch.get(), std::min(kSpoolReadBytes, expected - body.size()),
                                MSG_DONTWAIT);
                if (n <= 0) break;
                add(scratch.get(), static_cast<std::size_t>(n));
                state.last_activity_ms = now_ms();
            }
        }
        return body.size() == expected;
    }

    static void end_spool(ConnectionState& state) {
        state.spool.reset();
        state.spool_hash.reset();
        state.spool_size = 0;
        state.spool_head = std::string();
        state.spool_close = false;
    }

    // Hands one whole request to Pistache's parser (the router's handler).
    // Called with the state's mutex held and nothing in flight.
    void hand_over(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& state,
                   std::string request, bool close) {
        state->partial_since_ms = state->pending.empty() ? 0 : now_ms();
        state->partial_head_complete = false;
        state->close_after = close;
        state->continue_sent = false;
        state->head_method = request.starts_with("HEAD ");
        state->dispatched = false;
        state->in_flight = true;
        as_tcp(*inner_).onInput(request.data(), request.size(), peer);
        auto parser = Http::Handler::getParser(peer);
        bool parser_done = parser && parser->step()->id() == Http::Private::RequestLineStep::Id;
        if (!state->dispatched || !parser_done) {
            // Pistache refused the request itself (a plain-text error) or
            // still waits for more of it: the connection's framing is no
            // longer certain, so it ends once that answer is out.
            spdlog::info("connection {}: request not dispatched by the parser; closing it", peer->fd());
            state->in_flight = false;
            state->pending = std::string();
            state->closing = true;
            state->closing_since_ms = now_ms() - 9000;  // the sweeper closes it in about a second
        }
    }

    // An answer was written (any thread). Closes the connection, or goes on
    // with the next pipelined request.
    void written(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& state, bool close) {
        std::lock_guard lock(state->mutex);
        state->in_flight = false;
        state->spooled_body.reset();  // its handler did not take it (refused before, e.g. 401)
        state->last_activity_ms = now_ms();
        if (close || state->closing) {
            state->closing = true;
            if (state->closing_since_ms == 0) state->closing_since_ms = now_ms();
            state->pending = std::string();
            // Our side is done: the client reads the answer, then end of file,
            // and hangs up; the sweeper closes it if it does not.
            if (!state->gone) ::shutdown(peer->fd(), SHUT_WR);
            return;
        }
        pump(peer, state, false);
    }

    // Answers with Drover's JSON error and closes the connection once it is
    // written. Called with the state's mutex held and nothing in flight.
    void refuse(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& state,
                Refusal refusal) {
        RequestContext ctx{next_request_id(), ""};
        Reply reply = error_reply(refusal.code, refusal.error_code, refusal.message, ctx);
        // Counted under route "unmatched": it never reached the router.
        Metrics::global().record(ctx, static_cast<int>(refusal.code));
        spdlog::info("request {}: refused before parsing ({} {}): {}", ctx.request_id, static_cast<int>(refusal.code),
                     refusal.error_code, refusal.message);
        state->pending = std::string();
        end_spool(*state);
        state->partial_since_ms = 0;
        state->closing = true;
        state->closing_since_ms = now_ms();
        state->in_flight = true;  // until written: the sweeper leaves it alone
        http::write_response(peer, state,
                             http::response_bytes(refusal.code, reply.body, reply.headers, ctx.request_id, true),
                             true);
    }

    static void drop(const std::shared_ptr<Tcp::Peer>& peer, ConnectionState& state, std::size_t len) {
        state.dropped += len;
        if (state.dropped > kDrainLimit && !state.read_shut && !state.gone) {
            state.read_shut = true;
            ::shutdown(peer->fd(), SHUT_RD);  // the next read sees EOF and Pistache closes
        }
    }

    // The router's handler gets this clone's transport (see PrivateMember) and
    // the limits the endpoint gave the guard.
    void attach() {
        if (attached_) return;
        inner_.get()->*member_of(HandlerTransport{}) = transport();
        inner_->setMaxRequestSize(getMaxRequestSize());
        inner_->setMaxResponseSize(getMaxResponseSize());
        attached_ = true;
    }

    // The limit of the request at the head of `data`: a route with a larger
    // one (RequestLimits::large, upload parts) by its request line, else the
    // normal one.
    std::size_t request_max(std::string_view data) const {
        for (const auto& [prefix, limit] : limits_.large) {
            if (data.starts_with(prefix)) return limit;
        }
        return limits_.normal ? limits_.normal : getMaxRequestSize();
    }
    // Whether the request at the head of `data` is one whose large body the
    // guard spools (an upload route: RequestLimits::large).
    bool spooled_route(std::string_view data) const {
        return std::any_of(limits_.large.begin(), limits_.large.end(),
                           [&](const auto& large) { return data.starts_with(large.first); });
    }
    // What `pending` may hold: one whole request of the largest kind.
    std::size_t largest_request() const {
        std::size_t max = limits_.normal ? limits_.normal : getMaxRequestSize();
        for (const auto& [prefix, limit] : limits_.large) max = std::max(max, limit);
        return max;
    }

    std::shared_ptr<Http::Handler> inner_;
    std::shared_ptr<http::ConnectionRegistry> registry_;
    RequestLimits limits_;
    bool attached_ = false;
};

std::string join_methods(std::vector<Http::Method> methods) {
    std::vector<std::string> names;
    for (auto m : methods) names.emplace_back(Http::methodString(m));
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

std::shared_ptr<Http::Handler> guarded_handler(const Rest::Router& original,
                                               std::shared_ptr<http::ConnectionRegistry> registry, RequestLimits limits) {
    auto router = std::make_shared<Rest::Router>(original);
    auto& routes = (*router).*member_of(RouterRoutes{});
    // Router::route() looks its table up with operator[], which inserts a
    // missing method; with every method present, the table is never modified
    // while reactor threads read it.
#define METHOD(repr, str) routes[Http::Method::repr];
    HTTP_METHODS
#undef METHOD
    const auto* table = &routes;

    // Runs when no route matches the method; answers 405 when another method
    // has a route for the path (as Router::route() would, in plain text).
    router->addCustomHandler([table](const Rest::Request& request, Http::ResponseWriter response) {
        std::vector<Http::Method> allowed;
        try {
            const auto sanitized = Rest::SegmentTreeNode::sanitizeResource(request.resource());
            const std::string_view path{sanitized};
            for (const auto& [method, tree] : *table) {
                if (method != request.method() && std::get<0>(tree.findRoute(path)) != nullptr) {
                    allowed.push_back(method);
                }
            }
        } catch (const std::exception&) {
            return Rest::Route::Result::Failure;
        }
        if (allowed.empty()) return Rest::Route::Result::Failure;
        auto allow = join_methods(allowed);
        RequestContext ctx{next_request_id(), ""};
        auto reply = error_reply(Http::Code::Method_Not_Allowed, "method_not_allowed",
                                 std::string(Http::methodString(request.method())) + " is not allowed on " +
                                     request.resource() + " (allowed: " + allow + ")",
                                 ctx);
        reply.headers.emplace_back("Allow", allow);
        send_reply(response, reply, ctx);
        return Rest::Route::Result::Ok;
    });
    return std::make_shared<RequestGuard>(std::make_shared<Dispatch>(router), std::move(registry), std::move(limits));
}

}  // namespace drover::api
