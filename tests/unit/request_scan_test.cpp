// What the request guard makes of the first bytes of a request
// (api/http/request_scan), without a server.
#include <boost/test/unit_test.hpp>

#include <string>

#include "api/http/request_scan.hpp"

using drover::api::http::Scan;
using drover::api::http::scan_request;
using drover::api::http::without_body;

namespace {

constexpr std::size_t kMax = 4096;

// "need more", "<size>", "<size> close", or "<status> <code>".
std::string verdict(const std::string& bytes, std::size_t max = kMax) {
    Scan s = scan_request(bytes, max);
    if (s.refusal) return std::to_string(static_cast<int>(s.refusal->code)) + " " + s.refusal->error_code;
    if (s.size == 0) return "need more";
    return std::to_string(s.size) + (s.close ? " close" : "");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_scan_test)

BOOST_AUTO_TEST_CASE(malformed_request_lines_are_refused_from_their_first_bytes) {
    BOOST_TEST(verdict("GARBAGE") == "400 bad_request_line");  // no newline needed
    BOOST_TEST(verdict("GARBAGE\r\n\r\n") == "400 bad_request_line");
    BOOST_TEST(verdict("get / HTTP/1.1\r\n") == "400 bad_request_line");
    BOOST_TEST(verdict("GET /\r\n") == "400 bad_request_line");                 // HTTP/0.9
    BOOST_TEST(verdict("GET / HTTP/1.1\n") == "400 bad_request_line");          // bare LF
    BOOST_TEST(verdict("GET / HTTP/1.1\r\nHost: x\n\r\n") == "400 bad_header");  // bare LF in a header
    BOOST_TEST(verdict("GET nopath HTTP/1.1\r\n\r\n") == "400 bad_request_line");
    BOOST_TEST(verdict("GET / HTTP/2.0\r\n\r\n") == "505 http_version_not_supported");
    BOOST_TEST(verdict("BREW / HTTP/1.1\r\n\r\n") == "501 unknown_method");
    BOOST_TEST(verdict("GET / HTTP/1.1\r\n folded: x\r\n\r\n") == "400 bad_header");
    // Still arriving, and could become a request.
    BOOST_TEST(verdict("") == "need more");
    BOOST_TEST(verdict("PO") == "need more");
    BOOST_TEST(verdict("POST /v1/jobs HTT") == "need more");
    BOOST_TEST(verdict("GET / HTTP/1.1\r\nHost: x\r\n") == "need more");
}

BOOST_AUTO_TEST_CASE(bodies_and_sizes) {
    std::string head = "POST /v1/jobs HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
    BOOST_TEST(verdict(head + "ab") == "need more");
    BOOST_TEST(scan_request(head + "ab", kMax).head_complete);
    BOOST_TEST(verdict(head + "abcde") == std::to_string(head.size() + 5));
    // Bytes after the body are the next (pipelined) request, not this one's.
    BOOST_TEST(verdict(head + "abcdeGET / HTTP/1.1\r\n\r\n") == std::to_string(head.size() + 5));
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nContent-Length: 99999\r\n\r\n") == "413 request_too_large");
    // A header section over the request's own limit, or over the header cap.
    BOOST_TEST(verdict("GET / HTTP/1.1\r\nX: " + std::string(5000, 'a')) == "431 headers_too_large");
    BOOST_TEST(verdict("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'), 1 << 20) == "431 headers_too_large");
    const std::string under = "GET / HTTP/1.1\r\nX: " + std::string(16000, 'a') + "\r\n\r\n";
    BOOST_TEST(verdict(under, 1 << 20) == std::to_string(under.size()));
    BOOST_TEST(verdict("GET / HTTP/1.1\r\nX: " + std::string(16400, 'a') + "\r\n\r\n", 1 << 20) ==
               "431 headers_too_large");
    // Headers under the cap with a body over the limit stay 413.
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a')) ==
               "413 request_too_large");
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n") == "400 bad_content_length");
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") ==
               "400 bad_content_length");
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == "411 length_required");
    // A Content-Type Pistache's parser cannot read: JSON 415 here, not its plain-text one.
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nContent-Type: garbage\r\n\r\n") == "415 unsupported_media_type");
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nContent-Type: font/woff2\r\n\r\n") == "415 unsupported_media_type");
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nContent-Type: application/\r\n\r\n") == "415 unsupported_media_type");
    BOOST_TEST(verdict("POST / HTTP/1.1\r\nContent-Type: Application/JSON; charset=utf-8\r\n\r\n") == "66");
}

BOOST_AUTO_TEST_CASE(connection_and_expect) {
    auto whole = [](const std::string& r, bool close) {
        return verdict(r) == std::to_string(r.size()) + (close ? " close" : "");
    };
    BOOST_TEST(whole("GET / HTTP/1.1\r\n\r\n", false));
    BOOST_TEST(whole("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", true));
    BOOST_TEST(whole("GET / HTTP/1.1\r\nconnection: Keep-Alive, CLOSE\r\n\r\n", true));
    BOOST_TEST(whole("GET / HTTP/1.0\r\n\r\n", true));
    BOOST_TEST(whole("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false));
    auto s = scan_request("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", kMax);
    BOOST_TEST(s.expect_continue);
    BOOST_TEST(s.size == 0u);
    BOOST_TEST(s.head_complete);
}

BOOST_AUTO_TEST_CASE(a_spooled_request_goes_to_the_parser_with_content_length_zero) {
    const std::string head =
        "PUT /v1/uploads/sessions/1/parts/1 HTTP/1.1\r\nHost: t\r\ncontent-LENGTH: 1048576\r\n"
        "X-Content-Length-Note: 7\r\n\r\n";
    auto scan = scan_request(head, 4u << 20);
    BOOST_TEST(scan.head_complete);
    BOOST_TEST(scan.size == 0u);  // the body has not arrived
    BOOST_TEST(scan.head_size == head.size());
    BOOST_TEST(scan.body_size == 1048576u);
    auto rewritten = without_body(head);
    BOOST_TEST(rewritten ==
               "PUT /v1/uploads/sessions/1/parts/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
               "X-Content-Length-Note: 7\r\n\r\n");
    auto again = scan_request(rewritten, 4u << 20);
    BOOST_TEST(again.size == rewritten.size());  // a whole request now
}

BOOST_AUTO_TEST_SUITE_END()
