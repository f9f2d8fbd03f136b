#pragma once
// A guard in front of Pistache's HTTP parser (Pistache 0.0.5).
//
// Pistache reserve()s a request's claimed Content-Length before it checks
// maxRequestSize, turns a bad Content-Length into a 500 carrying the exception
// text, answers its own errors (413, 405) in plain text, drops pipelined
// requests after the first, and waits ~10 s (header timeout) before it
// answers a malformed request line. The guard sits between the transport and
// the router's handler: it buffers each request until it is whole (header
// block and body), checks it, and only then hands it to Pistache, one request
// at a time: the next pipelined one once the previous answer is written
// (api/http/reply_writer.hpp), so each is answered, in order.
//
// It refuses at once, with Drover's JSON error body, an X-Request-Id header
// and `Connection: close`, then reads and drops what the client still sends
// (up to 64 MiB, so a client that writes a whole body before reading gets its
// answer) and closes:
//   - 400 bad_request_line: a request line that is not
//     `METHOD /target HTTP/1.x` + CR LF (garbage, HTTP/0.9, a bare LF) — as
//     soon as its first bytes show it; 505 for another HTTP version, 501 for
//     an unknown method;
//   - 400 bad_header: a header line without ':', folded, or ending in a bare LF;
//   - 413 request_too_large: header block, or header block + Content-Length,
//     over maxRequestSize (so Pistache's own plain-text 413 cannot happen);
//   - 400 bad_content_length: a Content-Length that is not a decimal number
//     of at most 64 bits, several that disagree, or one next to
//     Transfer-Encoding;
//   - 411 length_required: any Transfer-Encoding (chunked bodies would let
//     Pistache reserve() a chunk's claimed size the same way);
//   - 503 too_many_connections: the process is at its connection cap and no
//     idle connection could be closed (api/http/connection_registry.hpp).
// A request read whole keeps its connection open (even after a 4xx), unless
// it asked for `Connection: close` or is HTTP/1.0 without keep-alive.
// It also answers a known path with the wrong method 405 method_not_allowed
// as JSON (with Allow), instead of the router's plain-text 405.
#include <pistache/http.h>
#include <pistache/router.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/http/connection_registry.hpp"

namespace drover::api {

// Per-request size limits. `normal` (0: the endpoint's maxRequestSize) applies
// to every request and to every header block; a request whose request line
// starts with one of `large` (e.g. "POST /v1/uploads ") may carry a body up
// to its limit instead. The endpoint's maxRequestSize must be at least the
// largest limit, since Pistache applies it too.
struct RequestLimits {
    std::size_t normal = 0;
    std::vector<std::pair<std::string, std::size_t>> large;
};

// The handler to give Endpoint::setHandler(): the router's handler behind the
// guard. The router is copied (as Router::handler() does); add routes first.
// Connections are recorded in (and closed by) `registry`.
std::shared_ptr<Pistache::Http::Handler> guarded_handler(const Pistache::Rest::Router& router,
                                                         std::shared_ptr<http::ConnectionRegistry> registry,
                                                         RequestLimits limits = {});

}  // namespace drover::api
