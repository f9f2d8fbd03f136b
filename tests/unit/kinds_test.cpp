#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "core/kinds.hpp"

using namespace drover;

namespace {

std::string refusal(const std::string& text) {
    try {
        KindRegistry::parse(text, "kinds.json");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kinds_test)

BOOST_AUTO_TEST_CASE(builtin_kinds_always_exist) {
    auto r = KindRegistry::builtins_only();
    for (auto name : {"noop", "sleep", "fail"}) {
        BOOST_REQUIRE(r.find(name));
        BOOST_TEST((r.find(name)->type == Kind::Type::builtin));
    }
    BOOST_TEST(!r.find("nope"));
}

BOOST_AUTO_TEST_CASE(parses_a_command_kind_with_every_field) {
    auto r = KindRegistry::parse(R"({"kinds": {"resize": {
        "command": ["/usr/bin/convert", "-resize", "50%"], "env": {"A": "1"}, "timeout_s": 30,
        "max_attempts": 4, "queue": "media", "permanent_exit_codes": [2, 3]}}})");
    const Kind* k = r.find("resize");
    BOOST_REQUIRE(k);
    BOOST_TEST((k->type == Kind::Type::command));
    BOOST_TEST(k->argv.size() == 3u);
    BOOST_TEST(k->env.at("A") == "1");
    BOOST_TEST(k->timeout_s.value() == 30);
    BOOST_TEST(k->max_attempts == 4);
    BOOST_TEST(k->queue == "media");
    BOOST_TEST((k->permanent_exit_codes == std::vector<int>{2, 3}));
    BOOST_TEST(r.find("noop"));
}

BOOST_AUTO_TEST_CASE(refuses_bad_files_with_a_message_naming_the_problem) {
    BOOST_TEST(refusal("{").find("kinds.json: not valid JSON") != std::string::npos);
    BOOST_TEST(refusal("[]").find("must be an object with a \"kinds\" object") != std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {}, "extra": 1})").find("unknown top-level field 'extra'") != std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {"a": {}}})").find("kind 'a': 'command'") != std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {"a": {"command": []}}})").find("'command' must be") != std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {"a": {"command": ["x"], "tiemout_s": 1}}})").find("unknown field 'tiemout_s'") !=
               std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {"a": {"command": ["x"], "timeout_s": 0}}})").find("timeout_s") != std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {"a": {"command": ["x"], "permanent_exit_codes": [300]}}})")
                   .find("permanent_exit_codes") != std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {"noop": {"command": ["x"]}}})").find("built in") != std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {"a b": {"command": ["x"]}}})").find("kind name") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reads_a_backoff_policy) {
    auto r = KindRegistry::parse(
        R"({"kinds": {"k": {"command": ["x"], "backoff": {"initial_s": 5, "multiplier": 3, "max_s": 100}}}})");
    const auto& b = r.find("k")->backoff.value();
    BOOST_TEST(b.delay_s(1) == 5);
    BOOST_TEST(b.delay_s(2) == 15);
    BOOST_TEST(b.delay_s(3) == 45);
    BOOST_TEST(b.delay_s(4) == 100);  // capped
    BOOST_TEST(!KindRegistry::parse(R"({"kinds": {"k": {"command": ["x"]}}})").find("k")->backoff.has_value());
    BOOST_TEST(refusal(R"({"kinds": {"k": {"command": ["x"], "backoff": {"multiplier": 0.5}}}})").find("backoff.multiplier") !=
               std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {"k": {"command": ["x"], "backoff": {"base": 1}}}})").find("backoff.base") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(reads_queue_limits) {
    auto r = KindRegistry::parse(R"({"kinds": {}, "queues": {"media": {"concurrency": 2}}})");
    BOOST_TEST(r.queue_limits().at("media") == 2);
    BOOST_TEST(refusal(R"({"kinds": {}, "queues": {"media": {"concurrency": -1}}})").find("queue 'media'") !=
               std::string::npos);
    BOOST_TEST(refusal(R"({"kinds": {}, "queues": {"media": {"limit": 1}}})").find("queue 'media'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reads_kind_concurrency_limits) {
    auto r = KindRegistry::parse(R"({"kinds": {
        "render": {"command": ["x"], "concurrency": 3},
        "resize": {"in_process": true, "concurrency": 1},
        "free": {"command": ["x"]}}})");
    BOOST_TEST(r.find("render")->concurrency.value() == 3);
    BOOST_TEST(r.find("resize")->concurrency.value() == 1);
    BOOST_TEST(!r.find("free")->concurrency.has_value());
    BOOST_TEST((r.kind_limits() == std::map<std::string, int>{{"render", 3}, {"resize", 1}}));
    BOOST_TEST(KindRegistry::builtins_only().kind_limits().empty());
}

BOOST_AUTO_TEST_CASE(refuses_a_kind_concurrency_that_is_not_a_positive_integer) {
    for (std::string bad : {"0", "-1", "1.5", "2.0", "\"2\"", "true", "null", "[2]", "4294967296"}) {
        auto message = refusal(R"({"kinds": {"render": {"command": ["x"], "concurrency": )" + bad + "}}}");
        BOOST_TEST(message.find("kinds.json: kind 'render': 'concurrency' must be a positive integer") !=
                       std::string::npos,
                   bad << " gave: " << message);
    }
}

BOOST_AUTO_TEST_CASE(args_schema_checks_a_kinds_args_and_names_the_field) {
    auto r = KindRegistry::parse(R"({"kinds": {"thumb": {"command": ["x"], "args_schema": {
        "type": "object", "required": ["width"], "additionalProperties": false,
        "properties": {"width": {"type": "integer", "minimum": 1, "maximum": 4096},
                       "format": {"enum": ["png", "jpeg"]}}}}}})");
    const Kind* k = r.find("thumb");
    BOOST_REQUIRE(k);
    auto check = [&](const char* args) -> std::string {
        rapidjson::Document d;
        d.Parse(args);
        try {
            r.validate_args(*k, d);
        } catch (const InputError& e) {
            BOOST_TEST(e.code() == "invalid_args");
            return e.field();
        }
        return "ok";
    };
    BOOST_TEST(check(R"({"width": 200, "format": "png"})") == "ok");
    BOOST_TEST(check(R"({"width": 0})") == "args.width");
    BOOST_TEST(check(R"({"width": "wide"})") == "args.width");
    BOOST_TEST(check(R"({"width": 10, "format": "gif"})") == "args.format");
    BOOST_TEST(check(R"({})") == "args");
    BOOST_TEST(check(R"({"width": 10, "colour": 1})") == "args.colour");
    // A kind without a schema takes any object; a schema must be an object.
    BOOST_TEST(refusal(R"({"kinds": {"t": {"command": ["x"], "args_schema": "yes"}}})").find("'args_schema' must be") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(refuses_a_missing_file) {
    BOOST_CHECK_THROW(KindRegistry::load("/nonexistent/kinds.json"), ConfigError);
}

BOOST_AUTO_TEST_CASE(reads_the_sandbox_fields_of_a_kind) {
    auto r = KindRegistry::parse(R"({"kinds": {"render": {"command": ["/usr/bin/render"], "user": "render-jobs",
        "network": false, "limits": {"memory_mb": 512, "cpu_s": 60, "processes": 64, "open_files": 256},
        "bind": {"/srv/models": "ro", "/srv/cache": "rw"}}}})");
    const Kind* k = r.find("render");
    BOOST_REQUIRE(k);
    BOOST_TEST(k->user == "render-jobs");
    BOOST_TEST(!k->network);
    BOOST_TEST(k->limits.memory_mb.value() == 512);
    BOOST_TEST(k->limits.cpu_s.value() == 60);
    BOOST_TEST(k->limits.processes.value() == 64);
    BOOST_TEST(k->limits.open_files.value() == 256);
    BOOST_TEST(k->binds.size() == 2u);
    BOOST_TEST(!k->binds.at("/srv/models"));
    BOOST_TEST(k->binds.at("/srv/cache"));
}

BOOST_AUTO_TEST_CASE(a_kind_without_sandbox_fields_gets_the_defaults) {
    auto r = KindRegistry::parse(R"({"kinds": {"plain": {"command": ["/bin/true"]}}})");
    const Kind* k = r.find("plain");
    BOOST_REQUIRE(k);
    BOOST_TEST(k->user.empty());
    BOOST_TEST(k->network);
    BOOST_TEST(k->limits.empty());
    BOOST_TEST(k->binds.empty());
}

BOOST_AUTO_TEST_CASE(refuses_bad_sandbox_fields_naming_the_kind_and_field) {
    auto refused = [](const std::string& fields, const std::string& expected) {
        auto message = refusal(R"({"kinds": {"k": {"command": ["x"], )" + fields + "}}}");
        BOOST_TEST(message.find("kind 'k'") != std::string::npos, message);
        BOOST_TEST(message.find(expected) != std::string::npos, fields << " -> " << message);
    };
    refused(R"("user": "root")", "must not be root");
    refused(R"("user": "0")", "must not be root");
    refused(R"("user": "")", "'user'");
    refused(R"("network": "no")", "'network'");
    refused(R"("limits": {"memory_mb": 0})", "'limits.memory_mb'");
    refused(R"("limits": {"memory_mb": 8})", "'limits.memory_mb'");
    refused(R"("limits": {"cpu_s": -1})", "'limits.cpu_s'");
    refused(R"("limits": {"processes": "many"})", "'limits.processes'");
    refused(R"("limits": {"open_files": 2})", "'limits.open_files'");
    refused(R"("limits": {"disk_mb": 10})", "unknown field 'limits.disk_mb'");
    refused(R"("limits": 5)", "'limits' must be an object");
    refused(R"("bind": {"relative/path": "ro"})", "must be absolute");
    refused(R"("bind": {"/srv/../etc": "ro"})", "must be absolute and normalised");
    refused(R"("bind": {"/": "ro"})", "must be absolute");
    refused(R"("bind": {"/srv": "rx"})", "\"ro\" or \"rw\"");
    refused(R"("bind": {"/job/x": "rw"})", "the sandbox's own");
    refused(R"("bind": {"/proc": "ro"})", "the sandbox's own");
    refused(R"("env": {"DROVER_DATABASE_URL": "x"})", "reserved");
    refused(R"("env": {"A=B": "x"})", "'env' names");
}

BOOST_AUTO_TEST_SUITE_END()
