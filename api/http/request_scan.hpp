#pragma once
// Reads the start of what a client sent and says what it is: a whole
// request (its size, whether it ends the connection, whether it expects a
// 100 Continue), not enough bytes yet, or a refusal with Drover's error code.
// Pure functions, no I/O: the request guard (api/request_guard.hpp) acts on
// the answer, and unit tests call it directly.
//
// It answers as early as the bytes allow: a request line that cannot become
// `METHOD /target HTTP/1.x` CR LF is refused from its first bytes (400
// bad_request_line: garbage, HTTP/0.9, a bare LF; 505 for another HTTP
// version; 501 for an unknown method), a header block or Content-Length over
// `max` as soon as it shows (413), a header section (request line and
// headers) over `max_head` as soon as it shows (431), a bad Content-Length or any
// Transfer-Encoding when the header block is complete (400, 411), a
// Content-Type Pistache could not parse (415).
#include <pistache/http_defs.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace drover::api::http {

struct Refusal {
    Pistache::Http::Code code;
    const char* error_code;
    std::string message;
};

struct Scan {
    std::size_t size = 0;          // 0: need more bytes; else the whole request's size
    bool close = false;            // Connection: close, or HTTP/1.0 without keep-alive
    bool head_complete = false;    // the header block has arrived (the body has not)
    bool expect_continue = false;  // Expect: 100-continue
    std::size_t head_size = 0;     // once head_complete: request line + headers + the empty line
    std::uint64_t body_size = 0;   // once head_complete: the Content-Length (0 without one)
    std::optional<Refusal> refusal;
};

// The header section's cap: 16 KiB, as Node.js has; nginx's largest default
// is 32 KiB. Pistache's header parser is quadratic in the header section's
// size (STACK-NOTES: 2 MB cost 4.7 s of CPU), so the cap is also what keeps
// one request from stalling a reactor thread.
constexpr std::size_t kMaxHeadBytes = 16 * 1024;

// `data`: bytes from the start of a request (leading empty lines removed);
// `max`: the largest request, line + headers + body; `max_head`: the largest
// header section, line + headers + the empty line (capped at `max`).
Scan scan_request(std::string_view data, std::size_t max, std::size_t max_head = kMaxHeadBytes);

// A header block (as scan_request accepted it) with its Content-Length set to
// 0: the request handed to Pistache without the body the guard kept.
std::string without_body(std::string_view head);

}  // namespace drover::api::http
