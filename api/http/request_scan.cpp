#include "api/http/request_scan.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>
#include <variant>

namespace drover::api::http {

using namespace Pistache;

namespace {

// Methods Pistache's parser knows (others would get its plain-text error).
constexpr std::string_view kMethods[] = {"OPTIONS", "GET",     "POST",    "HEAD",  "PUT",      "PATCH",
                                         "DELETE",  "TRACE",   "CONNECT", "ACL",   "BASELINE-CONTROL"};


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

// True when the comma-separated header value holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        auto comma = value.find(',');
        if (iequals(trim(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
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
    std::string out;
    for (char c : s.substr(0, kMax)) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return "'" + out + (s.size() > kMax ? "...'" : "'");
}

Refusal bad_line(std::string message) {
    return Refusal{Http::Code::Bad_Request, "bad_request_line", std::move(message)};
}

// Checks what has arrived of the request line. Answers at once (400) for
// garbage, HTTP/0.9 or a bare LF, instead of waiting for a header block that
// will never come. Nothing when the line is fine or still incomplete.
std::optional<Refusal> check_request_line(std::string_view data, bool& is_http10) {
    auto lf = data.find('\n');
    std::string_view line = lf == std::string_view::npos ? data : data.substr(0, lf);
    bool has_cr = !line.empty() && line.back() == '\r';
    if (has_cr) line.remove_suffix(1);
    // The method, up to the first space: while it is still arriving, it must
    // be the start of a known method, so `GARBAGE` is refused at once.
    auto space = line.find(' ');
    auto method = line.substr(0, std::min(space, line.size()));
    bool known_prefix = std::any_of(std::begin(kMethods), std::end(kMethods),
                                    [&](std::string_view m) { return m.starts_with(method); });
    bool method_chars = std::all_of(method.begin(), method.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '-'; });
    if (!method_chars || method.size() > 20 || (space == std::string_view::npos && !known_prefix)) {
        return bad_line("the request line must start with a method such as GET or POST, got " + quoted(line));
    }
    if (lf == std::string_view::npos) return std::nullopt;
    if (!has_cr) return bad_line("the request line must end with CR LF, got a bare LF after " + quoted(line));
    if (space == std::string_view::npos) {
        return bad_line("the request line must be 'METHOD /path HTTP/1.1', got " + quoted(line));
    }
    auto rest = line.substr(space + 1);
    auto space2 = rest.find(' ');
    if (space2 == std::string_view::npos) {
        return bad_line("HTTP/0.9 requests are not supported: the request line needs a version, got " + quoted(line));
    }
    auto target = rest.substr(0, space2);
    auto version = rest.substr(space2 + 1);
    if (target.empty() || (target[0] != '/' && target != "*" && !target.starts_with("http"))) {
        return bad_line("the request target must be a path such as /v1/jobs, got " + quoted(target));
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        if (version.size() == 8 && version.starts_with("HTTP/") && version[6] == '.') {
            return Refusal{Http::Code::HTTP_Version_Not_Supported, "http_version_not_supported",
                           "only HTTP/1.1 and HTTP/1.0 are supported, got " + quoted(version)};
        }
        return bad_line("the request line must end with HTTP/1.1, got " + quoted(line));
    }
    if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) {
        return Refusal{Http::Code::Not_Implemented, "unknown_method", "unknown method " + quoted(method)};
    }
    is_http10 = version == "HTTP/1.0";
    return std::nullopt;
}

// Whether Pistache's media type parser can read a Content-Type: a top type
// it knows, '/', a subtype. It answers any other with a plain-text 415 of its
// own ("Unknown Media Type"); the guard refuses those first, as JSON.
bool readable_media_type(std::string_view value) {
    constexpr std::string_view kTops[] = {"*", "text", "image", "audio", "video", "application", "message", "multipart"};
    auto slash = value.find('/');
    if (slash == std::string_view::npos || slash + 1 >= value.size()) return false;
    auto sub_start = value[slash + 1];
    if (sub_start == ';' || sub_start == ' ' || sub_start == '\t') return false;
    auto top = value.substr(0, slash);
    return std::any_of(std::begin(kTops), std::end(kTops), [&](std::string_view t) { return iequals(t, top); });
}

struct Head {
    std::uint64_t body = 0;
    bool close = false;            // the client asked to close after this request
    bool expect_continue = false;  // Expect: 100-continue
};

// Checks a complete header block (request line, headers, empty line) of
// `head_size` <= max bytes. Returns the body length, or why it is refused.
// Header lines are split the way Pistache splits them (name = everything
// before the first ':'), so that both agree on where the body ends.
std::variant<Head, Refusal> check_head(std::string_view head, std::size_t max, bool http10) {
    using Code = Http::Code;
    std::optional<std::uint64_t> length;
    bool transfer_encoding = false;
    bool close = false, keep_alive = false, expect_continue = false;
    std::size_t pos = head.find("\r\n") + 2;  // past the request line, checked before
    while (pos < head.size()) {
        auto end = head.find("\r\n", pos);
        if (end == pos) break;  // the empty line
        auto line = head.substr(pos, end - pos);
        pos = end + 2;
        if (line.front() == ' ' || line.front() == '\t') {
            return Refusal{Code::Bad_Request, "bad_header", "folded header lines are not allowed: " + quoted(line)};
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            return Refusal{Code::Bad_Request, "bad_header", "header line without ':': " + quoted(line)};
        }
        auto raw_name = line.substr(0, colon);
        auto name = trim(raw_name);
        if (iequals(name, "expect")) {
            expect_continue = expect_continue || iequals(trim(line.substr(colon + 1)), "100-continue");
            continue;
        }
        if (iequals(name, "content-type")) {
            if (!readable_media_type(trim(line.substr(colon + 1)))) {
                return Refusal{Code::Unsupported_Media_Type, "unsupported_media_type",
                               "Content-Type must be a media type such as application/json, got " +
                                   quoted(trim(line.substr(colon + 1)))};
            }
            continue;
        }
        if (iequals(name, "connection")) {
            auto value = line.substr(colon + 1);
            close = close || has_token(value, "close");
            keep_alive = keep_alive || has_token(value, "keep-alive");
            continue;
        }
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
    return Head{body, close || (http10 && !keep_alive), expect_continue && !http10};
}

}  // namespace


Scan scan_request(std::string_view data, std::size_t max, std::size_t max_head) {
    Scan scan;
    max_head = std::min(max_head, max);
    bool http10 = false;
    if (auto refusal = check_request_line(data, http10)) {
        scan.refusal = std::move(refusal);
        return scan;
    }
    auto end = data.find("\r\n\r\n");
    // Every line of the header block must end with CR LF: a bare LF is where
    // two parsers could disagree on where a header (or the request) ends.
    auto checked = std::min(end == std::string_view::npos ? data.size() : end + 4, max_head + 1);
    for (auto lf = data.find('\n'); lf < checked; lf = data.find('\n', lf + 1)) {
        if (lf == 0 || data[lf - 1] != '\r') {
            scan.refusal = Refusal{Http::Code::Bad_Request, "bad_header", "header lines must end with CR LF"};
            return scan;
        }
    }
    if (end == std::string_view::npos || end + 4 > max_head) {
        if (end != std::string_view::npos || data.size() > max_head) {
            scan.refusal = Refusal{Http::Code::Request_Header_Fields_Too_Large, "headers_too_large",
                                   "the request line and headers are over the limit of " + std::to_string(max_head) +
                                       " bytes"};
        }
        return scan;
    }
    const std::size_t head_size = end + 4;
    auto checked_head = check_head(data.substr(0, head_size), max, http10);
    if (auto* refusal = std::get_if<Refusal>(&checked_head)) {
        scan.refusal = std::move(*refusal);
        return scan;
    }
    const auto& head = std::get<Head>(checked_head);
    scan.head_complete = true;
    scan.close = head.close;
    scan.expect_continue = head.expect_continue;
    scan.head_size = head_size;
    scan.body_size = head.body;
    if (data.size() - head_size >= head.body) scan.size = head_size + static_cast<std::size_t>(head.body);
    return scan;
}

std::string without_body(std::string_view head) {
    std::string out;
    out.reserve(head.size() + 8);
    std::size_t pos = head.find("\r\n") + 2;
    out.append(head.substr(0, pos));
    while (pos < head.size()) {
        auto end = head.find("\r\n", pos);
        auto line = head.substr(pos, end - pos);
        pos = end + 2;
        auto colon = line.find(':');
        if (colon != std::string_view::npos && iequals(line.substr(0, colon), "content-length")) {
            out.append("Content-Length: 0\r\n");
        } else {
            out.append(line).append("\r\n");
        }
    }
    return out;
}

}  // namespace drover::api::http
