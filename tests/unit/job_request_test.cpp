#include <boost/test/unit_test.hpp>

#include "api/job_request.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

using namespace drover;

namespace {

const KindRegistry& kinds() {
    static const KindRegistry k = KindRegistry::parse(
        R"({"kinds": {"convert": {"command": ["/bin/true"], "queue": "media", "max_attempts": 3, "timeout_s": 60}}})");
    return k;
}

// The error a body produces: "<status class>:<code>:<field>".
std::string error_of(const std::string& body) {
    try {
        api::parse_new_job(body, kinds(), "default");
    } catch (const InputError& e) {
        return std::string(e.kind() == InputError::Kind::malformed ? "400" : "422") + ":" + e.code() + ":" + e.field();
    }
    return "accepted";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_request_test)

BOOST_AUTO_TEST_CASE(fills_defaults_from_the_kind) {
    auto job = api::parse_new_job(R"({"kind": "convert", "args": {"file": "a.png"}})", kinds(), "app1");
    BOOST_TEST(job.app == "app1");
    BOOST_TEST(job.queue == "media");
    BOOST_TEST(job.max_attempts == 3);
    BOOST_TEST(job.timeout_s.value() == 60);
    BOOST_TEST(job.args_json == R"({"file":"a.png"})");
    BOOST_TEST(!job.run_at.has_value());
}

BOOST_AUTO_TEST_CASE(fields_override_kind_defaults) {
    auto job = api::parse_new_job(
        R"({"kind": "convert", "queue": "q2", "priority": 5, "max_attempts": 7, "timeout_s": 9,
            "run_at": "2030-01-02T03:04:05.5+01:00", "unique_key": "k1"})",
        kinds(), "default");
    BOOST_TEST(job.queue == "q2");
    BOOST_TEST(job.priority == 5);
    BOOST_TEST(job.max_attempts == 7);
    BOOST_TEST(job.timeout_s.value() == 9);
    BOOST_TEST(job.run_at.value() == "2030-01-02T03:04:05.5+01:00");
    BOOST_TEST(job.unique_key.value() == "k1");
    BOOST_TEST(job.args_json == "{}");
}

BOOST_AUTO_TEST_CASE(rejects_malformed_json_with_400) {
    BOOST_TEST(error_of("{\"kind\":") == "400:malformed_json:");
    BOOST_TEST(error_of("") == "400:malformed_json:");
    BOOST_TEST(error_of(R"({"kind":"noop"} trailing)") == "400:malformed_json:");
    BOOST_TEST(error_of("{\"kind\":\"noop\xff\"}") == "400:malformed_json:");
}

BOOST_AUTO_TEST_CASE(rejects_wrong_shapes_with_422_and_names_the_field) {
    BOOST_TEST(error_of("[]") == "422:wrong_type:");
    BOOST_TEST(error_of("{}") == "422:missing_field:kind");
    BOOST_TEST(error_of(R"({"kind": 5})") == "422:wrong_type:kind");
    BOOST_TEST(error_of(R"({"kind": "nope"})") == "422:unknown_kind:kind");
    BOOST_TEST(error_of(R"({"kind": "noop", "colour": 1})") == "422:unknown_field:colour");
    BOOST_TEST(error_of(R"({"kind": "noop", "args": []})") == "422:wrong_type:args");
    BOOST_TEST(error_of(R"({"kind": "noop", "priority": "high"})") == "422:wrong_type:priority");
    BOOST_TEST(error_of(R"({"kind": "noop", "priority": 1.5})") == "422:wrong_type:priority");
    BOOST_TEST(error_of(R"({"kind": "noop", "priority": 100000})") == "422:out_of_range:priority");
    BOOST_TEST(error_of(R"({"kind": "noop", "max_attempts": 0})") == "422:out_of_range:max_attempts");
    BOOST_TEST(error_of(R"({"kind": "noop", "timeout_s": -1})") == "422:out_of_range:timeout_s");
    BOOST_TEST(error_of(R"({"kind": "noop", "queue": "a b"})") == "422:invalid_value:queue");
    BOOST_TEST(error_of(R"({"kind": "noop", "queue": ""})") == "422:invalid_value:queue");
    BOOST_TEST(error_of(R"({"kind": "noop", "run_at": "tomorrow"})") == "422:invalid_value:run_at");
    BOOST_TEST(error_of(R"({"kind": "noop", "run_at": 5})") == "422:wrong_type:run_at");
    // The shape of an RFC 3339 time, checked by hand (no std::regex).
    for (const char* bad : {"2026-01-31", "2026-01-31T12:00:00", "2026-01-31T12:00Z", "2026-1-31T12:00:00Z",
                            "2026-01-31T12:00:00.Z", "2026-01-31T12:00:00.1234567890Z", "2026-01-31T12:00:00+0100",
                            "2026-01-31T12:00:00+01:00x", "2026-01-31X12:00:00Z", " 2026-01-31T12:00:00Z"}) {
        BOOST_TEST(error_of(std::string(R"({"kind": "noop", "run_at": ")") + bad + "\"}") == "422:invalid_value:run_at",
                   bad);
    }
    for (const char* good : {"2026-01-31T12:00:00Z", "2026-01-31t12:00:00z", "2026-01-31 12:00:00.123456789-05:30",
                             "2026-01-31T12:00:00.5+01:00"}) {
        BOOST_TEST(error_of(std::string(R"({"kind": "noop", "run_at": ")") + good + "\"}") == "accepted", good);
    }
    BOOST_TEST(error_of(R"({"kind": "noop", "unique_key": ""})") == "422:invalid_value:unique_key");
}

BOOST_AUTO_TEST_CASE(checks_builtin_kind_arguments) {
    BOOST_TEST(error_of(R"({"kind": "sleep"})") == "422:invalid_args:args.ms");
    BOOST_TEST(error_of(R"({"kind": "sleep", "args": {"ms": "10"}})") == "422:invalid_args:args.ms");
    BOOST_TEST(error_of(R"({"kind": "sleep", "args": {"ms": -1}})") == "422:invalid_args:args.ms");
    BOOST_TEST(error_of(R"({"kind": "sleep", "args": {"ms": 10, "x": 1}})") == "422:invalid_args:args.x");
    BOOST_TEST(error_of(R"({"kind": "noop", "args": {"x": 1}})") == "422:invalid_args:args.x");
    BOOST_TEST(error_of(R"({"kind": "fail", "args": {"permanent": "yes"}})") == "422:invalid_args:args.permanent");
    BOOST_TEST(error_of(R"({"kind": "sleep", "args": {"ms": 10}})") == "accepted");
    BOOST_TEST(error_of(R"({"kind": "fail", "args": {"permanent": true, "message": "m"}})") == "accepted");
}

BOOST_AUTO_TEST_CASE(args_numbers_keep_every_digit) {
    // Through a double these became 123456789012345660000000000000 and 18446744073709553000.0.
    auto job = api::parse_new_job(
        R"({"kind": "convert", "args": {"big": 123456789012345678901234567890, "u": 18446744073709551617,
             "neg": -9223372036854775809, "frac": 0.1000000000000000000001, "exp": 1.5E+300,
             "nested": [{"n": 12345678901234567890123}], "s": "a\u0000b\"", "t": true, "z": null}})",
        kinds(), "default");
    BOOST_TEST(job.args_json ==
               R"({"big":123456789012345678901234567890,"u":18446744073709551617,"neg":-9223372036854775809,)"
               R"("frac":0.1000000000000000000001,"exp":1.5E+300,"nested":[{"n":12345678901234567890123}],)"
               R"("s":"a\u0000b\"","t":true,"z":null})");
}

BOOST_AUTO_TEST_CASE(args_with_a_duplicate_key_are_refused) {
    BOOST_TEST(error_of(R"({"kind": "convert", "args": {"a": 1, "a": 2}})") == "422:duplicate_field:args.a");
    BOOST_TEST(error_of(R"({"kind": "convert", "args": {"a": {"b": 1, "c": [{"d": 1, "d": 1}]}}})") ==
               "422:duplicate_field:args.a.c.d");
    // The same key in different objects is fine.
    BOOST_TEST(error_of(R"({"kind": "convert", "args": {"a": {"x": 1}, "b": {"x": 1}, "c": [{"x": 1}, {"x": 2}]}})") ==
               "accepted");
    // Members other than args are not args.
    auto job = api::parse_new_job(R"({"unique_key": "k", "kind": "convert", "args": {"args": {"q": 1}}})", kinds(),
                                  "default");
    BOOST_TEST(job.args_json == R"({"args":{"q":1}})");
}

BOOST_AUTO_TEST_CASE(array_elements_split_a_json_array_as_written) {
    auto parts = json::array_elements(R"( [ {"a": [1, 2]}, "x,]\"y", 1e400 , [ ] ] )");
    BOOST_REQUIRE(parts.size() == 4u);
    BOOST_TEST(parts[0] == R"({"a": [1, 2]})");
    BOOST_TEST(parts[1] == R"("x,]\"y")");
    BOOST_TEST(parts[2] == "1e400");
    BOOST_TEST(parts[3] == "[ ]");
    BOOST_TEST(json::array_elements("[]").empty());
    BOOST_CHECK_THROW(json::array_elements("{}"), InputError);
    BOOST_CHECK_THROW(json::array_elements("[1, 2"), InputError);
}

BOOST_AUTO_TEST_SUITE_END()
