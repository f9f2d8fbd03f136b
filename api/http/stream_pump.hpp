#pragma once
// Sends a streamed body (api/reply.hpp's BodySource) one chunk at a time: a
// chunk is read when the previous one has been written, so a download holds
// one chunk in memory whatever its size.
#include <pistache/async.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/http/connection_state.hpp"
#include "api/reply.hpp"

namespace drover::api::http {

// Queues bytes on the connection; the promise settles once they are written
// (rejected when the client is gone).
using ChunkWriter = std::function<Pistache::Async::Promise<ssize_t>(std::string bytes)>;

class StreamPump : public std::enable_shared_from_this<StreamPump> {
public:
    // `chunked`: the body goes in chunked transfer encoding (its length was
    // not in the headers). Once the body is written, or the download fails,
    // state->on_written hears of it.
    StreamPump(ChunkWriter write, std::shared_ptr<ConnectionState> state, std::shared_ptr<BodySource> source,
               bool chunked, bool close, std::string request_id);

    // Sends `head` (the status line and headers), then the body.
    void start(std::string head);

private:
    struct Piece {
        std::string bytes;
        bool last = false;  // the end of the answer
    };
    void run(std::optional<Piece> piece);
    // True when the write finished at once (see run()); false when it
    // finishes later, from its continuation, or was not sent (client gone).
    bool written_at_once(Piece& piece);
    std::optional<Piece> after_write(bool last);
    std::optional<Piece> next_piece();
    void finish(bool close);

    ChunkWriter write_;
    std::shared_ptr<ConnectionState> state_;
    std::shared_ptr<BodySource> source_;
    bool chunked_;
    bool close_;
    std::string request_id_;
};

}  // namespace drover::api::http
