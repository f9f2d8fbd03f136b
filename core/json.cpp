#include "core/json.hpp"

#include <rapidjson/error/en.h>

#include "core/error.hpp"

namespace drover::json {

rapidjson::Document parse(std::string_view text) {
    rapidjson::Document doc;
    // kParseStopWhenDoneFlag is not set: trailing garbage after the value is an error.
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    if (doc.HasParseError()) {
        throw InputError(InputError::Kind::malformed, "malformed_json",
                         std::string("body is not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                             " at offset " + std::to_string(doc.GetErrorOffset()));
    }
    return doc;
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
