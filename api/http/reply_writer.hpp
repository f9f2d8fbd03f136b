#pragma once
// Writes Drover's answers on the wire itself, instead of through Pistache's
// ResponseWriter::send: Pistache 0.0.5 says `Connection: Close` on every
// answer yet keeps the socket open, and tells nobody when an answer has been
// written. Here each answer says `Connection: keep-alive` or `close` as the
// request asked (the guard decided), a close really closes once the answer is
// written, and a kept-alive connection gets its next pipelined request only
// then (see request_guard.hpp).
#include <pistache/http.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/http/connection_state.hpp"
#include "api/reply.hpp"

namespace drover::api {

// Sends a Reply with its content type (JSON unless it says otherwise) and the
// request id header, and counts it in the metrics.
void send_reply(Pistache::Http::ResponseWriter& response, const Reply& reply, const RequestContext& ctx);

namespace http {

// The status line and headers of a response whose body is `content_length`
// bytes, or chunked when it is -1.
std::string head_bytes(Pistache::Http::Code code, std::int64_t content_length,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& request_id, bool close, const std::string& content_type);

// The bytes of a whole response.
std::string response_bytes(Pistache::Http::Code code, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& request_id, bool close,
                           const std::string& content_type = "application/json");

// Queues `bytes` on the connection; once written, tells the guard
// (state->on_written), which closes the connection or hands over the next request.
void write_response(const std::shared_ptr<Pistache::Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& state,
                    std::string bytes, bool close);

}  // namespace http
}  // namespace drover::api
