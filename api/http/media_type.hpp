#pragma once
// Which Content-Type a route's body may carry (415 otherwise).
//   json:   `application/json`, optionally with `charset=utf-8` (any case,
//           quoted or not); another charset is refused.
//   binary: `application/zip`, `application/x-zip-compressed` (what some
//           browsers send for a .zip), `application/octet-stream`.
// No Content-Type at all is accepted on both: the body is read as the route
// expects (minimal clients, `nc`, scripts). A type that says the body is
// something else (a form, text, XML, a zip sent to a JSON route) is refused,
// so a client that sent the wrong thing learns it at once, not through a
// confusing parse error. `curl -d` sends `application/x-www-form-urlencoded`:
// use `curl --json` (or `-H 'Content-Type: application/json'`).
// Pure: the router calls it with the request's header, unit tests directly.
#include <optional>
#include <string>
#include <string_view>

namespace drover::api::http {

enum class BodyType { json, binary };

// Nothing when `content_type` ("" when the header is absent) is accepted for
// `body`; else the message of the 415.
std::optional<std::string> refuse_media_type(BodyType body, std::string_view content_type);

}  // namespace drover::api::http
