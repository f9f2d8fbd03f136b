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

#include "api/db_executor.hpp"  // send_reply
#include "api/http_error.hpp"
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


// After a refusal the guard reads and drops what the client still sends, so
// that the client can read the answer before the connection closes; past this
// many bytes it stops reading (the close may then reset the connection).
constexpr std::size_t kDrainLimit = 1 << 20;

constexpr const char* kStateKey = "drover.request_guard";

struct PeerState {
    enum class Phase {
        head,       // collecting the header block of the next request
        body,       // forwarding body_left more bytes of the current request
        skip_body,  // Pistache gave up on the request: dropping its body
        refused,    // answered and closing: dropping everything
    };
    Phase phase = Phase::head;
    std::string head;
    std::uint64_t body_left = 0;
    std::size_t dropped = 0;
    bool read_shut = false;
    bool gone = false;  // disconnected: the fd may already belong to someone else
};

struct Refusal {
    Http::Code code;
    const char* error_code;
    std::string message;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// A non-empty run of decimal digits that fits in 64 bits.
std::optional<std::uint64_t> parse_length(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        auto digit = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - digit) / 10) return std::nullopt;
        n = n * 10 + digit;
    }
    return n;
}

std::string quoted(std::string_view s) {
    constexpr std::size_t kMax = 40;
    std::string out = "'" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...'" : "'");
    return out;
}

// Checks a complete header block (request line, headers, empty line) of
// `head_size` <= max bytes. Returns the body length, or why it is refused.
// Header lines are split the way Pistache splits them (name = everything
// before the first ':'), so that both agree on where the body ends.
std::variant<std::uint64_t, Refusal> check_head(std::string_view head, std::size_t max) {
    using Code = Http::Code;
    std::optional<std::uint64_t> length;
    bool transfer_encoding = false;
    std::size_t pos = head.find("\r\n") + 2;  // past the request line; Pistache checks that
    while (pos < head.size()) {
        auto end = head.find("\r\n", pos);
        if (end == pos) break;  // the empty line
        auto line = head.substr(pos, end - pos);
        pos = end + 2;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            return Refusal{Code::Bad_Request, "bad_header", "header line without ':': " + quoted(line)};
        }
        auto raw_name = line.substr(0, colon);
        auto name = trim(raw_name);
        bool is_length = iequals(name, "content-length");
        bool is_encoding = iequals(name, "transfer-encoding");
        if (!is_length && !is_encoding) continue;
        if (name.size() != raw_name.size()) {
            return Refusal{Code::Bad_Request, "bad_header",
                           "whitespace around the header name " + quoted(name) + " is not allowed"};
        }
        if (is_encoding) {
            transfer_encoding = true;
            continue;
        }
        auto value = trim(line.substr(colon + 1));
        auto n = parse_length(value);
        if (!n) {
            return Refusal{Code::Bad_Request, "bad_content_length",
                           "Content-Length must be a number of bytes (decimal digits, at most 64 bits), got " +
                               quoted(value)};
        }
        if (length && *length != *n) {
            return Refusal{Code::Bad_Request, "bad_content_length", "several Content-Length headers disagree"};
        }
        length = n;
    }
    if (transfer_encoding && length) {
        return Refusal{Code::Bad_Request, "bad_content_length",
                       "Content-Length and Transfer-Encoding must not be sent together"};
    }
    if (transfer_encoding) {
        return Refusal{Code::Length_Required, "length_required",
                       "Transfer-Encoding is not supported; send the body with a Content-Length"};
    }
    std::uint64_t body = length.value_or(0);
    if (body > max - head.size()) {
        return Refusal{Code::Request_Entity_Too_Large, "request_too_large",
                       "the request (" + std::to_string(head.size()) + " bytes of headers and " +
                           std::to_string(body) + " bytes of body) is over the limit of " + std::to_string(max) +
                           " bytes"};
    }
    return body;
}

Tcp::Handler& as_tcp(Http::Handler& handler) { return handler; }

class RequestGuard final : public Http::Handler {
public:
    RequestGuard(std::shared_ptr<Http::Handler> inner, RequestLimits limits)
        : inner_(std::move(inner)), limits_(std::move(limits)) {}

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
        if (auto state = state_of(peer, false)) state->gone = true;
        as_tcp(*inner_).onDisconnection(peer);
    }

private:
    void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
        attach();
        peer->putData(kStateKey, std::make_shared<PeerState>());
        as_tcp(*inner_).onConnection(peer);  // puts Pistache's parser on the peer
    }

    void onInput(const char* data, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
        attach();
        auto state = state_of(peer, true);
        using Phase = PeerState::Phase;
        switch (state->phase) {
        case Phase::refused:
            drop(peer, *state, len);
            return;
        case Phase::body:
        case Phase::skip_body: {
            auto take = static_cast<std::size_t>(std::min<std::uint64_t>(state->body_left, len));
            state->body_left -= take;
            bool forward = state->phase == Phase::body;
            if (state->body_left == 0) state->phase = Phase::head;
            if (forward) pass(data, take, peer, *state);
            // Bytes past the body belong to a pipelined request: dropped, as
            // Pistache drops them (it resets its buffer after each request).
            return;
        }
        case Phase::head:
            break;
        }

        auto& head = state->head;
        std::size_t scanned = head.size();
        head.append(data, len);
        // Empty lines before a request line are to be ignored (RFC 9112 2.2).
        std::size_t blank = 0;
        while (head.size() >= blank + 2 && head[blank] == '\r' && head[blank + 1] == '\n') blank += 2;
        if (blank > 0) {
            head.erase(0, blank);
            scanned = 0;
        }
        const std::size_t max = limits_.normal ? limits_.normal : getMaxRequestSize();
        auto end = head.find("\r\n\r\n", scanned >= 3 ? scanned - 3 : 0);
        if (end == std::string::npos || end + 4 > max) {
            if (head.size() > max) {
                refuse(peer, state,
                       {Http::Code::Request_Entity_Too_Large, "request_too_large",
                        "the request headers are over the limit of " + std::to_string(max) + " bytes"});
            }
            return;
        }
        const std::size_t head_size = end + 4;
        std::size_t request_max = max;
        for (const auto& [prefix, limit] : limits_.large) {
            if (std::string_view(head).substr(0, head_size).starts_with(prefix)) request_max = limit;
        }
        auto checked = check_head(std::string_view(head).substr(0, head_size), request_max);
        if (auto* refusal = std::get_if<Refusal>(&checked)) {
            refuse(peer, state, std::move(*refusal));
            return;
        }
        const std::uint64_t body = std::get<std::uint64_t>(checked);
        auto take = static_cast<std::size_t>(std::min<std::uint64_t>(body, head.size() - head_size));
        head.resize(head_size + take);  // the rest would be a pipelined request: dropped, as above
        std::string request = std::move(head);
        head = std::string();
        state->body_left = body - take;
        state->phase = state->body_left > 0 ? Phase::body : Phase::head;
        pass(request.data(), request.size(), peer, *state);
    }

    // Hands bytes to the router's handler (Http::Handler::onInput is private
    // there, public in Tcp::Handler).
    void pass(const char* data, std::size_t len, const std::shared_ptr<Tcp::Peer>& peer, PeerState& state) {
        as_tcp(*inner_).onInput(data, len, peer);
        // Still expecting body, but Pistache is back to waiting for a request
        // line: it refused the request (and answered). Its body is no request.
        if (state.phase == PeerState::Phase::body) {
            auto parser = Http::Handler::getParser(peer);
            if (parser && parser->step()->id() == Http::Private::RequestLineStep::Id) {
                state.phase = PeerState::Phase::skip_body;
            }
        }
    }

    void refuse(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<PeerState>& state, Refusal refusal) {
        RequestContext ctx{next_request_id(), ""};
        Reply reply = error_reply(refusal.code, refusal.error_code, refusal.message, ctx);
        std::string out = "HTTP/1.1 " + std::to_string(static_cast<int>(refusal.code)) + " " +
                          Http::codeString(refusal.code) + "\r\n";
        out += "Content-Type: application/json\r\n";
        out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
        out += "X-Request-Id: " + ctx.request_id + "\r\n";
        for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
        out += "Connection: close\r\n\r\n";
        out += reply.body;
        spdlog::info("request {}: refused before parsing ({} {}): {}", ctx.request_id, static_cast<int>(refusal.code),
                     refusal.error_code, refusal.message);

        state->phase = PeerState::Phase::refused;
        state->head = std::string();
        // Not idle: Pistache's header timeout, not its long keep-alive
        // timeout, bounds how long a client that keeps the socket open stays.
        peer->setIdle(false);
        std::weak_ptr<Tcp::Peer> weak = peer;
        auto size = out.size();
        // Queued behind any answer still being written on this connection;
        // once written, close our side (the client reads the answer, then EOF).
        peer->send(RawBuffer(std::move(out), size))
            .then(
                [weak, state](ssize_t) {
                    auto p = weak.lock();
                    if (p && !state->gone) ::shutdown(p->fd(), SHUT_WR);
                },
                Async::IgnoreException);
    }

    static void drop(const std::shared_ptr<Tcp::Peer>& peer, PeerState& state, std::size_t len) {
        state.dropped += len;
        if (state.dropped > kDrainLimit && !state.read_shut) {
            state.read_shut = true;
            ::shutdown(peer->fd(), SHUT_RD);  // the next read sees EOF and Pistache closes
        }
    }

    static std::shared_ptr<PeerState> state_of(const std::shared_ptr<Tcp::Peer>& peer, bool create) {
        auto state = std::static_pointer_cast<PeerState>(peer->tryGetData(kStateKey));
        if (!state && create) {
            state = std::make_shared<PeerState>();
            peer->putData(kStateKey, state);
        }
        return state;
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

    std::shared_ptr<Http::Handler> inner_;
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

std::shared_ptr<Http::Handler> guarded_handler(const Rest::Router& original, RequestLimits limits) {
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
    return std::make_shared<RequestGuard>(Rest::Router::handler(router), std::move(limits));
}

}  // namespace drover::api
