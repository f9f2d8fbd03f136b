#include "api/http/reply_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

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
    // The continuation may run on the reactor thread (after the write) or on
    // this thread (when the write finished before .then() was attached): the
    // guard's on_written copes with both.
    peer->send(RawBuffer(std::move(bytes), size))
        .then(
            [state, close](ssize_t) {
                if (state && state->on_written) state->on_written(close);
            },
            [state](std::exception_ptr) {
                // The client went away; Pistache reports the disconnection.
                if (state) state->in_flight = false;
            });
}

namespace {

// Sends a streamed body one chunk at a time: each chunk is read when the
// previous one has been written, from the write's continuation (a reactor
// thread), so one chunk per download is all the memory it takes.
class StreamPump : public std::enable_shared_from_this<StreamPump> {
public:
    StreamPump(std::weak_ptr<Tcp::Peer> peer, std::shared_ptr<ConnectionState> state,
               std::shared_ptr<BodySource> source, bool chunked, bool close, std::string request_id)
        : peer_(std::move(peer)), state_(std::move(state)), source_(std::move(source)), chunked_(chunked),
          close_(close), request_id_(std::move(request_id)) {}

    void send(std::string bytes, bool last) {
        auto peer = peer_.lock();
        if (!peer || (state_ && state_->gone)) return;
        if (state_) state_->last_activity_ms = now_ms();
        auto size = bytes.size();
        auto self = shared_from_this();
        peer->send(RawBuffer(std::move(bytes), size))
            .then(
                [self, last](ssize_t) {
                    if (last) {
                        if (self->state_ && self->state_->on_written) self->state_->on_written(self->close_);
                    } else {
                        self->step();
                    }
                },
                [self](std::exception_ptr) {
                    if (self->state_) self->state_->in_flight = false;
                });
    }

    void step() {
        std::string chunk;
        bool more = false;
        try {
            more = source_->next(chunk);
        } catch (const std::exception& e) {
            // Headers are out: the only honest answer left is to end the
            // connection short of the promised length (or without the last chunk).
            spdlog::error("request {}: download aborted: {}", request_id_, e.what());
            if (state_ && state_->on_written) state_->on_written(true);
            return;
        }
        if (!more) {
            if (chunked_) {
                send("0\r\n\r\n", true);
            } else if (state_ && state_->on_written) {
                state_->on_written(close_);
            }
            return;
        }
        if (chunked_) {
            char size_line[32];
            std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
            chunk.insert(0, size_line);
            chunk += "\r\n";
        }
        send(std::move(chunk), false);
    }

private:
    std::weak_ptr<Tcp::Peer> peer_;
    std::shared_ptr<ConnectionState> state_;
    std::shared_ptr<BodySource> source_;
    bool chunked_;
    bool close_;
    std::string request_id_;
};

}  // namespace

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
        auto pump = std::make_shared<http::StreamPump>(peer, state, reply.stream, chunked, close, ctx.request_id);
        pump->send(std::move(head_part), false);
        return;
    }
    auto bytes = http::response_bytes(reply.code, reply.body, reply.headers, ctx.request_id, close, reply.content_type);
    // A HEAD answer has the headers (Content-Length included) and no body: a
    // body would be read as the start of the next answer on this connection.
    if (head) bytes.resize(bytes.size() - reply.body.size());
    http::write_response(peer, state, std::move(bytes), close);
}

}  // namespace drover::api
