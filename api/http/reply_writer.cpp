#include "api/http/reply_writer.hpp"

#include <algorithm>
#include <stdexcept>

#include "api/http/stream_pump.hpp"
#include "api/metrics.hpp"

namespace drover::api {

using namespace Pistache;

namespace http {

std::string head_bytes(Http::Code code, std::int64_t content_length,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& request_id, bool close, const std::string& content_type) {
    std::string out;
    out.reserve(256);
    out += "HTTP/1.1 " + std::to_string(static_cast<int>(code)) + " " + Http::codeString(code) + "\r\n";
    // A Content-Type among the headers (artifact downloads) wins over `content_type`.
    bool typed = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "Content-Type"; });
    if (!typed) out += "Content-Type: " + content_type + "\r\n";
    if (content_length >= 0) {
        out += "Content-Length: " + std::to_string(content_length) + "\r\n";
    } else {
        out += "Transfer-Encoding: chunked\r\n";
    }
    if (!request_id.empty()) out += "X-Request-Id: " + request_id + "\r\n";
    for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
    out += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
    return out;
}

std::string response_bytes(Http::Code code, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& request_id, bool close, const std::string& content_type) {
    auto out = head_bytes(code, static_cast<std::int64_t>(body.size()), headers, request_id, close, content_type);
    out += body;
    return out;
}

void write_response(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& state,
                    std::string bytes, bool close) {
    if (state && state->gone) return;  // the fd may belong to another client by now
    auto size = bytes.size();
    if (state) state->writing_since_ms = now_ms();
    // The continuation may run on the reactor thread (after the write) or on
    // this thread (when the write finished before .then() was attached): the
    // guard's on_written copes with both.
    peer->send(RawBuffer(std::move(bytes), size))
        .then(
            [state, close](ssize_t) {
                if (state) state->writing_since_ms = 0;
                if (state && state->on_written) state->on_written(close);
            },
            [state](std::exception_ptr) {
                // The client went away; Pistache reports the disconnection.
                if (state) {
                    state->writing_since_ms = 0;
                    state->in_flight = false;
                }
            });
}

}  // namespace http

void send_reply(Http::ResponseWriter& response, const Reply& reply, const RequestContext& ctx) {
    auto peer = response.getPeer();
    if (!peer) return;  // the client is gone (or the writer was moved from)
    auto state = http::connection_state(peer);
    bool close = true;
    bool head = false;
    if (state) {
        std::lock_guard lock(state->mutex);
        close = state->close_after;
        head = state->head_method;
    }
    Metrics::global().record(ctx, static_cast<int>(reply.code));
    if (reply.stream) {
        if (state && state->gone) return;
        bool chunked = reply.stream_size < 0;
        auto head_part = http::head_bytes(reply.code, reply.stream_size, reply.headers, ctx.request_id, close,
                                          reply.content_type);
        if (head) {
            http::write_response(peer, state, std::move(head_part), close);
            return;
        }
        // The pump holds the peer weakly: a download must not keep a gone client's connection.
        auto write = [weak = std::weak_ptr<Tcp::Peer>(peer)](std::string bytes) {
            auto peer = weak.lock();
            if (!peer) return Async::Promise<ssize_t>::rejected(std::runtime_error("the client is gone"));
            auto size = bytes.size();
            return peer->send(RawBuffer(std::move(bytes), size));
        };
        auto pump = std::make_shared<http::StreamPump>(std::move(write), state, reply.stream, chunked, close,
                                                       ctx.request_id);
        pump->start(std::move(head_part));
        return;
    }
    auto bytes = http::response_bytes(reply.code, reply.body, reply.headers, ctx.request_id, close, reply.content_type);
    // A HEAD answer has the headers (Content-Length included) and no body: a
    // body would be read as the start of the next answer on this connection.
    if (head) bytes.resize(bytes.size() - reply.body.size());
    http::write_response(peer, state, std::move(bytes), close);
}

}  // namespace drover::api
