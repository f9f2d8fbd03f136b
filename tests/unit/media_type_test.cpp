// Which Content-Type each kind of route body accepts (api/http/media_type).
#include <boost/test/unit_test.hpp>

#include "api/http/media_type.hpp"

using drover::api::http::BodyType;
using drover::api::http::refuse_media_type;

BOOST_AUTO_TEST_SUITE(media_type_test)

BOOST_AUTO_TEST_CASE(json_routes_take_json_in_utf8_or_no_type_at_all) {
    for (const char* ok : {"", "application/json", "Application/JSON", "application/json; charset=utf-8",
                           "application/json;charset=\"UTF-8\"", "application/json; foo=bar"}) {
        BOOST_TEST(!refuse_media_type(BodyType::json, ok).has_value(), ok);
    }
    for (const char* refused : {"application/x-www-form-urlencoded", "text/plain", "text/json", "application/xml",
                                "multipart/form-data; boundary=x", "application/zip", "application/json; charset=latin1",
                                "application/jsonp"}) {
        BOOST_TEST(refuse_media_type(BodyType::json, refused).has_value(), refused);
    }
    // curl -d's type gets a hint of what to send instead.
    BOOST_TEST(refuse_media_type(BodyType::json, "application/x-www-form-urlencoded")->find("--json") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(file_routes_take_zip_or_octet_stream) {
    for (const char* ok : {"", "application/zip", "application/octet-stream", "application/x-zip-compressed"}) {
        BOOST_TEST(!refuse_media_type(BodyType::binary, ok).has_value(), ok);
    }
    for (const char* refused : {"application/json", "multipart/form-data; boundary=x", "text/plain"}) {
        BOOST_TEST(refuse_media_type(BodyType::binary, refused).has_value(), refused);
    }
    // What the client sent is quoted, without its control bytes.
    auto message = *refuse_media_type(BodyType::binary, std::string("text/\x01plain"));
    BOOST_TEST(message.find('\x01') == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
