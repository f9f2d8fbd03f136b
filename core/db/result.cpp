#include "core/db/result.hpp"

#include <charconv>

#include "core/error.hpp"

namespace drover::db {

int Result::column(const char* name) const {
    int col = PQfnumber(result_.get(), name);
    if (col < 0) throw Error(std::string("result has no column ") + name);
    return col;
}

std::string_view Result::text(int row, int col) const {
    return {PQgetvalue(result_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}

std::optional<std::string> Result::optional_text(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return std::string(text(row, col));
}

std::int64_t Result::int64(int row, int col) const {
    auto s = text(row, col);
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || ptr != s.data() + s.size()) {
        throw Error("not an integer: '" + std::string(s) + "'");
    }
    return value;
}

std::optional<std::int64_t> Result::optional_int64(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return int64(row, col);
}

}  // namespace drover::db
