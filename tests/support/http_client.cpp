#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>
#include <chrono>
#include <stdexcept>

namespace drover::test {
std::optional<std::size_t> parse_http_response(const std::string& data, HttpResponse& r) {
    r = HttpResponse{};
    auto head_end = data.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::nullopt;
    auto line_end = data.find("\r\n");
    auto first = data.substr(0, line_end);
    auto space = first.find(' ');
    if (space != std::string::npos) r.status = std::atoi(first.c_str() + space + 1);
    std::size_t pos = line_end + 2;
    while (pos < head_end) {
        auto end = data.find("\r\n", pos);
        auto line = data.substr(pos, end - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), ::tolower);
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
        }
        pos = end + 2;
    }
    if (r.headers.count("transfer-encoding") && r.headers["transfer-encoding"] == "chunked") {
        // size line (hex), chunk, CRLF … until a zero-size chunk and its CRLF.
        // Walked without copying until complete: this runs after every recv.
        std::vector<std::pair<std::size_t, std::size_t>> chunks;
        std::size_t at = head_end + 4;
        for (;;) {
            auto eol = data.find("\r\n", at);
            if (eol == std::string::npos) return std::nullopt;
            std::size_t size = std::stoul(data.substr(at, eol - at), nullptr, 16);
            if (data.size() < eol + 2 + size + 2) return std::nullopt;
            if (size == 0) break;
            chunks.emplace_back(eol + 2, size);
            at = eol + 2 + size + 2;
        }
        for (auto [from, size] : chunks) r.body.append(data, from, size);
        return data.find("\r\n", at) + 4;
    }
    std::size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    if (data.size() < head_end + 4 + length) return std::nullopt;
    r.body = data.substr(head_end + 4, length);
    return head_end + 4 + length;
}

HttpResponse http_raw(int port, const std::string& request, int timeout_ms) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return {};
    }
    std::size_t sent = 0;
    while (sent < request.size()) {
        ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    std::string data;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    HttpResponse response;
    for (;;) {
        if (parse_http_response(data, response)) break;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[65536];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    parse_http_response(data, response);  // what arrived, complete or not
    return response;
}

const char* const default_api_key =
    "drv_00000000000000aa_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const char* const default_operator_key =
    "drvop_00000000000000bb_fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

HttpResponse http_request(int port, const std::string& method, const std::string& path, const std::string& body,
                          const std::string& content_type) {
    return http_request_as(default_api_key, port, method, path, body, content_type);
}

HttpResponse http_request_as(const std::string& api_key, int port, const std::string& method,
                             const std::string& path, const std::string& body, const std::string& content_type) {
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!api_key.empty()) request += "Authorization: Bearer " + api_key + "\r\n";
    if (!body.empty() || method == "POST") {
        request += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    return http_raw(port, request);
}

}  // namespace drover::test
