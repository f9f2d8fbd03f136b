#include "core/json.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>

#include "core/error.hpp"

namespace drover::json {

namespace {

// Deeper nesting is refused before parsing: the iterative parser would cope,
// but writing the value back out (Accept) and Postgres's jsonb both recurse.
constexpr int max_depth = 64;

int nesting_depth(std::string_view text) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > max_depth) return deepest;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

rapidjson::Document parse(std::string_view text) {
    if (nesting_depth(text) > max_depth) {
        throw InputError(InputError::Kind::malformed, "malformed_json",
                         "not accepted JSON: nested deeper than " + std::to_string(max_depth) + " levels");
    }
    rapidjson::Document doc;
    // kParseStopWhenDoneFlag is not set: trailing garbage after the value is an error.
    doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
    if (doc.HasParseError()) {
        throw InputError(InputError::Kind::malformed, "malformed_json",
                         std::string("not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                             " at offset " + std::to_string(doc.GetErrorOffset()));
    }
    return doc;
}

std::string_view view(const rapidjson::Value& string_value) {
    return {string_value.GetString(), string_value.GetStringLength()};
}

std::string to_string(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    Writer writer(buffer);
    value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

void write_raw(Writer& writer, std::string_view json_text) {
    writer.RawValue(json_text.data(), json_text.size(), rapidjson::kObjectType);
}

void write_optional_string(Writer& writer, const std::optional<std::string>& value) {
    if (value) {
        writer.String(value->c_str(), static_cast<rapidjson::SizeType>(value->size()));
    } else {
        writer.Null();
    }
}

}  // namespace drover::json
