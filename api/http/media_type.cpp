#include "api/http/media_type.hpp"

#include <algorithm>
#include <cctype>

namespace drover::api::http {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// The message's own quote of what the client sent: printable, at most 60 bytes.
std::string shown(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    return "'" + out + (s.size() > 60 ? "...'" : "'");
}

}  // namespace

std::optional<std::string> refuse_media_type(BodyType body, std::string_view content_type) {
    content_type = trim(content_type);
    if (content_type.empty()) return std::nullopt;
    auto semicolon = content_type.find(';');
    const std::string type = lower(trim(content_type.substr(0, semicolon)));
    if (body == BodyType::binary) {
        if (type == "application/zip" || type == "application/x-zip-compressed" || type == "application/octet-stream") {
            return std::nullopt;
        }
        return "this route takes the file itself as the body: send Content-Type application/zip or "
               "application/octet-stream, not " +
               shown(content_type);
    }
    if (type != "application/json") {
        std::string hint = type == "application/x-www-form-urlencoded"
                               ? " (curl -d sends that type: use curl --json or -H 'Content-Type: application/json')"
                               : "";
        return "this route takes a JSON body: send Content-Type application/json, not " + shown(content_type) + hint;
    }
    // Parameters: only charset means anything for JSON, and it must be UTF-8.
    while (semicolon != std::string_view::npos) {
        auto rest = content_type.substr(semicolon + 1);
        semicolon = rest.find(';');
        auto param = trim(rest.substr(0, semicolon));
        content_type = rest;
        auto eq = param.find('=');
        if (eq == std::string_view::npos || lower(trim(param.substr(0, eq))) != "charset") continue;
        auto value = trim(param.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        auto charset = lower(value);
        if (charset != "utf-8" && charset != "utf8") {
            return "JSON bodies must be UTF-8; the Content-Type says charset " + shown(value);
        }
    }
    return std::nullopt;
}

}  // namespace drover::api::http
