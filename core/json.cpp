#include "core/json.hpp"

#include <rapidjson/error/en.h>

#include <rapidjson/reader.h>

#include <algorithm>
#include <set>
#include <vector>

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

// SAX handler that copies one member of the top-level object into a Writer,
// numbers as raw text, checking each object's keys for duplicates.
class MemberCapture : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, MemberCapture> {
public:
    explicit MemberCapture(std::string_view name) : name_(name), writer_(buffer_) {}

    bool found() const { return found_; }
    std::string text() const { return {buffer_.GetString(), buffer_.GetSize()}; }

    bool Null() { return scalar([&] { return writer_.Null(); }); }
    bool Bool(bool b) { return scalar([&] { return writer_.Bool(b); }); }
    bool RawNumber(const char* str, rapidjson::SizeType length, bool) {
        return scalar([&] { return writer_.RawValue(str, length, rapidjson::kNumberType); });
    }
    bool String(const char* str, rapidjson::SizeType length, bool) {
        return scalar([&] { return writer_.String(str, length); });
    }
    bool StartObject() {
        begin_value();
        ++depth_;
        if (!capturing_) return true;
        keys_.emplace_back();
        path_.emplace_back();
        return writer_.StartObject();
    }
    bool Key(const char* str, rapidjson::SizeType length, bool) {
        std::string_view key(str, length);
        if (!capturing_) {
            target_next_ = depth_ == 1 && key == name_;
            return true;
        }
        path_.back() = std::string(key);
        if (!keys_.back().insert(std::string(key)).second) {
            std::string field(name_);
            for (const auto& part : path_) field += "." + part;
            throw InputError(InputError::Kind::invalid, "duplicate_field",
                             "key \"" + std::string(key) + "\" appears twice in one object in \"" + field + "\"",
                             field);
        }
        return writer_.Key(str, length);
    }
    bool EndObject(rapidjson::SizeType) {
        --depth_;
        if (!capturing_) return true;
        keys_.pop_back();
        path_.pop_back();
        bool ok = writer_.EndObject();
        end_value();
        return ok;
    }
    bool StartArray() {
        begin_value();
        ++depth_;
        return !capturing_ || writer_.StartArray();
    }
    bool EndArray(rapidjson::SizeType) {
        --depth_;
        if (!capturing_) return true;
        bool ok = writer_.EndArray();
        end_value();
        return ok;
    }

private:
    template <typename Write>
    bool scalar(Write write) {
        begin_value();
        if (!capturing_) return true;
        bool ok = write();
        end_value();
        return ok;
    }
    void begin_value() {
        if (!capturing_ && target_next_ && depth_ == 1) {
            capturing_ = true;
            found_ = true;
            level_ = depth_;
        }
        target_next_ = false;
    }
    void end_value() {
        if (capturing_ && depth_ == level_) capturing_ = false;
    }

    std::string_view name_;
    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
    std::vector<std::set<std::string>> keys_;
    std::vector<std::string> path_;
    int depth_ = 0;
    int level_ = 0;
    bool capturing_ = false;
    bool target_next_ = false;
    bool found_ = false;
};

}  // namespace

std::optional<std::string> member_text(std::string_view text, std::string_view name) {
    MemberCapture capture(name);
    rapidjson::Reader reader;
    rapidjson::MemoryStream stream(text.data(), text.size());
    constexpr unsigned flags =
        rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
    auto result = reader.Parse<flags>(stream, capture);
    if (result.IsError()) {
        throw InputError(InputError::Kind::malformed, "malformed_json",
                         std::string("not valid JSON: ") + rapidjson::GetParseError_En(result.Code()) +
                             " at offset " + std::to_string(result.Offset()));
    }
    if (!capture.found()) return std::nullopt;
    return capture.text();
}

std::vector<std::string> array_elements(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    };
    skip_space();
    if (i >= text.size() || text[i] != '[') {
        throw InputError(InputError::Kind::malformed, "malformed_json", "not a JSON array");
    }
    ++i;
    int depth = 0;
    bool in_string = false;
    std::size_t start = std::string_view::npos;
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (start == std::string_view::npos && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ']') start = i;
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        } else if (depth == 0 && (c == ',' || c == ']')) {
            if (start != std::string_view::npos) {
                auto piece = text.substr(start, i - start);
                while (!piece.empty() && (piece.back() == ' ' || piece.back() == '\n' || piece.back() == '\r' ||
                                          piece.back() == '\t')) {
                    piece.remove_suffix(1);
                }
                out.emplace_back(piece);
            }
            start = std::string_view::npos;
            if (c == ']') return out;
        }
    }
    throw InputError(InputError::Kind::malformed, "malformed_json", "unterminated JSON array");
}

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
