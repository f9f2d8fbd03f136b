#include "api/http/stream_pump.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

namespace drover::api::http {

StreamPump::StreamPump(ChunkWriter write, std::shared_ptr<ConnectionState> state, std::shared_ptr<BodySource> source,
                       bool chunked, bool close, std::string request_id)
    : write_(std::move(write)), state_(std::move(state)), source_(std::move(source)), chunked_(chunked),
      close_(close), request_id_(std::move(request_id)) {}

void StreamPump::start(std::string head) { run(Piece{std::move(head), false}); }

// Pistache's then() runs the continuation at once, on the calling thread, when
// the write finished before it was attached (the reactor thread won the race:
// common on a loaded machine). Sending the next chunk from there would recurse
// once per chunk, each level still holding its chunk: under load a 40 MiB
// download held 20 MiB, and the recursion could go as deep as the file is
// long. So a write that finished at once only says so, and this loop sends the
// next chunk; a write that finishes later goes on from its continuation.
void StreamPump::run(std::optional<Piece> piece) {
    while (piece && written_at_once(*piece)) piece = after_write(piece->last);
}

bool StreamPump::written_at_once(Piece& piece) {
    if (state_ && state_->gone) return false;  // the fd may belong to another client by now
    if (state_) state_->last_activity_ms = state_->writing_since_ms = now_ms();
    // Read by the continuation only on this thread (the thread id is compared
    // first), so it needs no lock.
    struct Attaching {
        std::thread::id thread = std::this_thread::get_id();
        bool attaching = true;
        bool written = false;
    };
    auto attaching = std::make_shared<Attaching>();
    auto self = shared_from_this();
    bool last = piece.last;
    write_(std::move(piece.bytes))
        .then(
            [self, last, attaching](ssize_t) {
                if (self->state_) self->state_->writing_since_ms = 0;
                if (std::this_thread::get_id() == attaching->thread && attaching->attaching) {
                    attaching->written = true;
                    return;
                }
                self->run(self->after_write(last));
            },
            [self](std::exception_ptr) {
                // The client went away; Pistache reports the disconnection.
                if (self->state_) {
                    self->state_->writing_since_ms = 0;
                    self->state_->in_flight = false;
                }
            });
    attaching->attaching = false;
    return attaching->written;
}

std::optional<StreamPump::Piece> StreamPump::after_write(bool last) {
    if (last) {
        finish(close_);
        return std::nullopt;
    }
    return next_piece();
}

std::optional<StreamPump::Piece> StreamPump::next_piece() {
    std::string chunk;
    bool more = false;
    try {
        more = source_->next(chunk);
    } catch (const std::exception& e) {
        // Headers are out: the only honest answer left is to end the
        // connection short of the promised length (or without the last chunk).
        spdlog::error("request {}: download aborted: {}", request_id_, e.what());
        finish(true);
        return std::nullopt;
    }
    if (!more) {
        if (chunked_) return Piece{"0\r\n\r\n", true};
        finish(close_);
        return std::nullopt;
    }
    if (chunked_) {
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
        chunk.insert(0, size_line);
        chunk += "\r\n";
    }
    return Piece{std::move(chunk), false};
}

void StreamPump::finish(bool close) {
    if (state_ && state_->on_written) state_->on_written(close);
}

}  // namespace drover::api::http
