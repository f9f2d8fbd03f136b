#pragma once
// One JSON object printed as one line on stdout: every drover command's answer.
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <vector>

namespace drover::cli {

class JsonLine {
public:
    JsonLine() { doc_.SetObject(); }
    JsonLine& add(const char* key, const std::string& value);
    JsonLine& add(const char* key, const char* value) { return add(key, std::string(value)); }
    JsonLine& add(const char* key, bool value);
    JsonLine& add(const char* key, std::int64_t value);
    JsonLine& add(const char* key, int value) { return add(key, static_cast<std::int64_t>(value)); }
    JsonLine& add(const char* key, const std::vector<std::string>& values);
    JsonLine& add(const char* key, JsonLine&& object);
    JsonLine& add_null(const char* key);
    // Already-serialised JSON (an API answer); a string when it does not parse.
    JsonLine& add_raw(const char* key, const std::string& json_text);
    std::string str() const;
    // Prints the line on stdout and flushes it.
    void print() const;

private:
    rapidjson::Value key_value(const char* key);
    rapidjson::Document doc_;
};

}  // namespace drover::cli
