#include "core/db/params.hpp"

#include <charconv>

namespace drover::db {

Params& Params::null() {
    values_.emplace_back(std::nullopt);
    return *this;
}

Params& Params::add(std::string_view text) {
    values_.emplace_back(std::string(text));
    return *this;
}

Params& Params::add(std::int64_t value) {
    values_.emplace_back(std::to_string(value));
    return *this;
}

Params& Params::add(double value) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    values_.emplace_back(std::string(buf, end));
    return *this;
}

Params& Params::add(bool value) {
    values_.emplace_back(value ? "t" : "f");
    return *this;
}

Params& Params::add(const std::vector<std::int64_t>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(values[i]);
    }
    out += '}';
    values_.emplace_back(std::move(out));
    return *this;
}

void append_array_element(std::string& out, std::string_view element) {
    out += '"';
    for (char c : element) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

Params& Params::add(const std::vector<std::optional<std::string>>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        if (values[i]) {
            append_array_element(out, *values[i]);
        } else {
            out += "NULL";
        }
    }
    out += '}';
    values_.emplace_back(std::move(out));
    return *this;
}

Params& Params::add(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        append_array_element(out, values[i]);
    }
    out += '}';
    values_.emplace_back(std::move(out));
    return *this;
}

std::vector<const char*> Params::pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
    return out;
}

}  // namespace drover::db
