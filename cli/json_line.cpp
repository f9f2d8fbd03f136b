#include "cli/json_line.hpp"

#include <iostream>

#include "core/json.hpp"

namespace drover::cli {

rapidjson::Value JsonLine::key_value(const char* key) {
    if (doc_.HasMember(key)) doc_.RemoveMember(key);
    return rapidjson::Value(key, doc_.GetAllocator());
}

JsonLine& JsonLine::add(const char* key, const std::string& value) {
    auto k = key_value(key);
    doc_.AddMember(k, rapidjson::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), doc_.GetAllocator()),
                   doc_.GetAllocator());
    return *this;
}

JsonLine& JsonLine::add(const char* key, bool value) {
    auto k = key_value(key);
    doc_.AddMember(k, rapidjson::Value(value), doc_.GetAllocator());
    return *this;
}

JsonLine& JsonLine::add(const char* key, std::int64_t value) {
    auto k = key_value(key);
    doc_.AddMember(k, rapidjson::Value(value), doc_.GetAllocator());
    return *this;
}

JsonLine& JsonLine::add(const char* key, const std::vector<std::string>& values) {
    auto k = key_value(key);
    rapidjson::Value array(rapidjson::kArrayType);
    for (const auto& v : values) {
        array.PushBack(rapidjson::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), doc_.GetAllocator()),
                       doc_.GetAllocator());
    }
    doc_.AddMember(k, array, doc_.GetAllocator());
    return *this;
}

JsonLine& JsonLine::add(const char* key, JsonLine&& object) {
    auto k = key_value(key);
    rapidjson::Value copy(object.doc_, doc_.GetAllocator());
    doc_.AddMember(k, copy, doc_.GetAllocator());
    return *this;
}

JsonLine& JsonLine::add_null(const char* key) {
    auto k = key_value(key);
    doc_.AddMember(k, rapidjson::Value(), doc_.GetAllocator());
    return *this;
}

JsonLine& JsonLine::add_raw(const char* key, const std::string& json_text) {
    rapidjson::Document parsed;
    parsed.Parse(json_text.c_str(), json_text.size());
    if (parsed.HasParseError()) return add(key, json_text);
    auto k = key_value(key);
    rapidjson::Value copy(parsed, doc_.GetAllocator());
    doc_.AddMember(k, copy, doc_.GetAllocator());
    return *this;
}

std::string JsonLine::str() const { return json::to_string(doc_); }

void JsonLine::print() const { std::cout << str() << "\n" << std::flush; }

}  // namespace drover::cli
