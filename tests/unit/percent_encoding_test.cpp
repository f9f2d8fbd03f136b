#include <boost/test/unit_test.hpp>

#include "core/percent_encoding.hpp"

using drover::percent_encode;

BOOST_AUTO_TEST_SUITE(percent_encoding_test)

BOOST_AUTO_TEST_CASE(unreserved_bytes_stay_and_every_other_byte_is_encoded) {
    BOOST_TEST(percent_encode("AZaz09-._~") == "AZaz09-._~");
    BOOST_TEST(percent_encode("notes/more.txt") == "notes%2Fmore.txt");
    BOOST_TEST(percent_encode("a b?c#d%e&f=g+h") == "a%20b%3Fc%23d%25e%26f%3Dg%2Bh");
    BOOST_TEST(percent_encode("..") == "..");
    BOOST_TEST(percent_encode(std::string_view("\0\xff\xc3\xa9", 4)) == "%00%FF%C3%A9");
    BOOST_TEST(percent_encode("") == "");
}

BOOST_AUTO_TEST_CASE(keep_leaves_the_named_bytes_but_never_nul) {
    BOOST_TEST(percent_encode("running,failed", ",:") == "running,failed");
    BOOST_TEST(percent_encode("2026-12-01T10:00:00Z", ",:") == "2026-12-01T10:00:00Z");
    BOOST_TEST(percent_encode("a,b", "") == "a%2Cb");
    BOOST_TEST(percent_encode(std::string_view("a\0b", 3), std::string_view("\0", 1)) == "a%00b");
}

BOOST_AUTO_TEST_SUITE_END()
