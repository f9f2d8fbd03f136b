#include "api/job_request.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"

namespace drover::api {
namespace {

InputError invalid(std::string code, std::string message, std::string field) {
    return InputError(InputError::Kind::invalid, std::move(code), std::move(message), std::move(field));
}

InputError wrong_type(const std::string& field, const char* expected) {
    return invalid("wrong_type", "\"" + field + "\" must be " + expected, field);
}

int int_in_range(const rapidjson::Value& v, const std::string& field, int lo, int hi) {
    if (!v.IsInt()) throw wrong_type(field, "an integer");
    int n = v.GetInt();
    if (n < lo || n > hi) {
        throw invalid("out_of_range",
                      "\"" + field + "\" must be from " + std::to_string(lo) + " to " + std::to_string(hi), field);
    }
    return n;
}

// A string field as the client sent it; an embedded NUL is refused rather
// than silently cutting the value short.
std::string string_field(const rapidjson::Value& v, const std::string& field) {
    auto s = json::view(v);
    if (s.find('\0') != std::string_view::npos) {
        throw invalid("invalid_value", "\"" + field + "\" must not contain U+0000", field);
    }
    return std::string(s);
}

bool is_name(const std::string& s, std::size_t max) {
    return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == ':' || c == '-';
    });
}

// `YYYY-MM-DD[Tt ]hh:mm:ss[.f{1,9}](Z|z|+hh:mm|-hh:mm)`, the shape only (the
// database checks the values). By hand: std::regex cost ~5% of a 1,000-job
// batch's CPU, once per job.
bool is_rfc3339(std::string_view v) {
    auto digits = [&](std::size_t at, std::size_t n) {
        if (at + n > v.size()) return false;
        for (std::size_t i = at; i < at + n; ++i) {
            if (v[i] < '0' || v[i] > '9') return false;
        }
        return true;
    };
    if (v.size() < 20 || !digits(0, 4) || v[4] != '-' || !digits(5, 2) || v[7] != '-' || !digits(8, 2) ||
        (v[10] != 'T' && v[10] != 't' && v[10] != ' ') || !digits(11, 2) || v[13] != ':' || !digits(14, 2) ||
        v[16] != ':' || !digits(17, 2)) {
        return false;
    }
    std::size_t i = 19;
    if (v[i] == '.') {
        std::size_t start = ++i;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
        if (i == start || i - start > 9) return false;
    }
    auto zone = v.substr(i);
    if (zone == "Z" || zone == "z") return true;
    return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(i + 1, 2) && zone[3] == ':' &&
           digits(i + 4, 2);
}

}  // namespace

NewJob parse_new_job(std::string_view body, const KindRegistry& kinds, const std::string& app) {
    rapidjson::Document doc = json::parse(body);
    if (!doc.IsObject()) throw invalid("wrong_type", "the body must be a JSON object", "");
    return parse_new_job(doc, kinds, app, json::member_text(body, "args"));
}

NewJob parse_new_job(const rapidjson::Value& doc, const KindRegistry& kinds, const std::string& app,
                     const std::optional<std::string>& args_text) {
    if (!doc.IsObject()) throw invalid("wrong_type", "a job must be a JSON object", "");

    static constexpr std::array known = {"kind", "args", "queue", "priority", "run_at", "max_attempts",
                                         "timeout_s", "unique_key", "upload_id"};
    std::set<std::string_view> seen;
    for (auto& m : doc.GetObject()) {
        std::string_view name = json::view(m.name);
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            throw invalid("unknown_field", "unknown field \"" + std::string(name) + "\"", std::string(name));
        }
        if (!seen.insert(name).second) {
            // RapidJSON would keep the first and ignore the second: say so instead.
            throw invalid("duplicate_field", "field \"" + std::string(name) + "\" appears twice", std::string(name));
        }
    }

    NewJob job;
    job.app = app;
    if (!doc.HasMember("kind")) throw invalid("missing_field", "\"kind\" is required", "kind");
    if (!doc["kind"].IsString()) throw wrong_type("kind", "a string");
    job.kind = string_field(doc["kind"], "kind");
    const Kind* kind = kinds.find(job.kind);
    if (!kind) throw invalid("unknown_kind", "no kind named \"" + job.kind + "\"", "kind");
    job.queue = kind->queue;
    job.max_attempts = kind->max_attempts;
    job.timeout_s = kind->timeout_s;

    if (doc.HasMember("args")) {
        const auto& args = doc["args"];
        if (!args.IsObject()) throw wrong_type("args", "an object");
        kinds.validate_args(*kind, args);
        // From the text as sent, not from the DOM: numbers keep every digit
        // (jsonb holds them exactly), and a duplicate key anywhere inside is
        // refused instead of RapidJSON silently keeping the first.
        job.args_json = args_text ? *args_text : json::to_string(args);
    } else {
        kinds.validate_args(*kind, rapidjson::Value(rapidjson::kObjectType));
    }
    if (doc.HasMember("queue")) {
        if (!doc["queue"].IsString()) throw wrong_type("queue", "a string");
        job.queue = string_field(doc["queue"], "queue");
        if (!is_name(job.queue, 64)) {
            throw invalid("invalid_value", "\"queue\" must be 1-64 characters of A-Z a-z 0-9 _ . : -", "queue");
        }
    }
    if (doc.HasMember("priority")) job.priority = int_in_range(doc["priority"], "priority", -1000, 1000);
    if (doc.HasMember("max_attempts")) job.max_attempts = int_in_range(doc["max_attempts"], "max_attempts", 1, 1000);
    if (doc.HasMember("timeout_s")) job.timeout_s = int_in_range(doc["timeout_s"], "timeout_s", 1, 7 * 86400);
    if (doc.HasMember("run_at")) {
        if (!doc["run_at"].IsString()) throw wrong_type("run_at", "an RFC 3339 timestamp string");
        std::string value = string_field(doc["run_at"], "run_at");
        if (!is_rfc3339(value)) {
            throw invalid("invalid_value", "\"run_at\" must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z",
                          "run_at");
        }
        job.run_at = value;
    }
    if (doc.HasMember("unique_key")) {
        if (!doc["unique_key"].IsString()) throw wrong_type("unique_key", "a string");
        std::string key = string_field(doc["unique_key"], "unique_key");
        if (key.empty() || key.size() > 256) {
            throw invalid("invalid_value", "\"unique_key\" must be 1-256 characters", "unique_key");
        }
        job.unique_key = key;
    }
    if (doc.HasMember("upload_id")) {
        // An id as POST /v1/uploads returned it (a decimal string), or the number.
        const auto& v = doc["upload_id"];
        std::int64_t id = 0;
        if (v.IsInt64()) {
            id = v.GetInt64();
        } else if (v.IsString()) {
            auto s = json::view(v);
            auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
            if (ec != std::errc() || ptr != s.data() + s.size()) id = 0;
        } else {
            throw wrong_type("upload_id", "an upload id (a string as POST /v1/uploads returned it)");
        }
        if (id <= 0) throw invalid("unknown_upload", "\"upload_id\" names no upload", "upload_id");
        job.upload_id = id;
    }
    return job;
}

}  // namespace drover::api
