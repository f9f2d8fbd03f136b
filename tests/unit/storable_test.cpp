// What Postgres text and jsonb accept (core/storable): job output is made
// storable before the worker queues it for the database.
#include <boost/test/unit_test.hpp>

#include "core/storable.hpp"

using namespace drover;
using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(storable_test)

const std::string fffd = "\xEF\xBF\xBD";

BOOST_AUTO_TEST_CASE(valid_utf8_is_kept_as_it_is) {
    for (std::string s : {""s, "plain"s, "caf\xC3\xA9"s, "\xE2\x82\xAC 10"s, "\xF0\x9F\x98\x80"s, "\xF4\x8F\xBF\xBF"s}) {
        BOOST_TEST(is_storable_text(s));
        BOOST_TEST(storable_text(s) == s);
    }
}

BOOST_AUTO_TEST_CASE(every_kind_of_bad_byte_becomes_one_replacement) {
    BOOST_TEST(storable_text("caf\xE9"s) == "caf" + fffd);
    BOOST_TEST(storable_text("a\0b"s) == "a" + fffd + "b");
    BOOST_TEST(storable_text("\xC0\x80"s) == fffd + fffd);            // overlong NUL: C0 is never valid
    BOOST_TEST(storable_text("\xED\xA0\x80"s) == fffd);      // a surrogate: one broken character
    BOOST_TEST(storable_text("\xF4\x90\x80\x80"s) == fffd);  // past U+10FFFF
    BOOST_TEST(storable_text("\xE2\x82"s) == fffd);                    // truncated sequence: one replacement
    BOOST_TEST(storable_text("\xE2\x82x"s) == fffd + "x");
    BOOST_TEST(storable_text("\xFF\xFE"s) == fffd + fffd);
    for (int b = 0; b < 256; ++b) BOOST_TEST(is_storable_text(storable_text(std::string(1, static_cast<char>(b)))));
}

BOOST_AUTO_TEST_CASE(prefix_never_splits_a_character) {
    std::string s = "ab\xE2\x82\xAC";
    BOOST_TEST(utf8_prefix(s, 10) == s);
    BOOST_TEST(utf8_prefix(s, 4) == "ab");
    BOOST_TEST(utf8_prefix(s, 3) == "ab");
    BOOST_TEST(utf8_prefix(s, 2) == "ab");
}

BOOST_AUTO_TEST_CASE(jsonb_refusals_name_the_reason) {
    BOOST_TEST(!jsonb_refusal(R"({"a": [1, "x", null], "n": 123456789012345678901234567890})"));
    BOOST_TEST(jsonb_refusal(R"({"a": "\u0000"})").value_or("").find("\\u0000") != std::string::npos);
    BOOST_TEST(jsonb_refusal(R"({"\u0000": 1})").has_value());
    BOOST_TEST(jsonb_refusal(R"(["\udc00"])").has_value());
    BOOST_TEST(jsonb_refusal("{\"a\": \"caf\xE9\"}").value_or("") == "not valid UTF-8");
    BOOST_TEST(jsonb_refusal("{").value_or("").find("not valid JSON") == 0u);
    BOOST_TEST(jsonb_refusal("{} x").has_value());
    BOOST_TEST(jsonb_refusal(std::string(5000, '[') + std::string(5000, ']')).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
