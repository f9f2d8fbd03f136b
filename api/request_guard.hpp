#pragma once
// A guard in front of Pistache's HTTP parser (Pistache 0.0.5).
//
// Pistache reserve()s a request's claimed Content-Length before it checks
// maxRequestSize, turns a bad Content-Length into a 500 carrying the exception
// text, and answers its own errors (413, 405) in plain text. The guard sits
// between the transport and the router's handler: it holds each request's
// header block until it is complete, checks it, and only then hands the bytes
// to Pistache. It refuses, with Drover's JSON error body, an X-Request-Id
// header and `Connection: close`, and then closes the connection:
//   - 413 request_too_large: header block, or header block + Content-Length,
//     over maxRequestSize (so Pistache's own plain-text 413 cannot happen);
//   - 400 bad_content_length: a Content-Length that is not a decimal number
//     of at most 64 bits, several that disagree, or one next to
//     Transfer-Encoding;
//   - 411 length_required: any Transfer-Encoding (chunked bodies would let
//     Pistache reserve() a chunk's claimed size the same way).
// It also answers a known path with the wrong method 405 method_not_allowed
// as JSON (with Allow), instead of the router's plain-text 405.
//
// Pistache's own 408 (header/body timeout) and 400s for a malformed request
// line stay plain text: they are produced inside Pistache's transport and
// parser, where no handler can reach them.
#include <pistache/http.h>
#include <pistache/router.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

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
std::shared_ptr<Pistache::Http::Handler> guarded_handler(const Pistache::Rest::Router& router,
                                                         RequestLimits limits = {});

}  // namespace drover::api
