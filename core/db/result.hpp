#pragma once
// An owned PGresult with typed, by-name access to text-format columns.
#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace drover::db {

class Result {
public:
    Result() = default;
    explicit Result(PGresult* result) : result_(result, &PQclear) {}

    int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
    bool empty() const { return rows() == 0; }
    // Rows an INSERT, UPDATE or DELETE without RETURNING touched.
    std::int64_t affected() const { return result_ ? std::atoll(PQcmdTuples(result_.get())) : 0; }
    // Column index by name; throws Error when the query has no such column.
    int column(const char* name) const;

    bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
    std::string_view text(int row, int col) const;
    std::optional<std::string> optional_text(int row, int col) const;
    std::int64_t int64(int row, int col) const;
    std::optional<std::int64_t> optional_int64(int row, int col) const;
    bool boolean(int row, int col) const { return text(row, col) == "t"; }

    // By name, for readability where speed does not matter.
    std::string_view text(int row, const char* name) const { return text(row, column(name)); }
    std::int64_t int64(int row, const char* name) const { return int64(row, column(name)); }

private:
    std::unique_ptr<PGresult, void (*)(PGresult*)> result_{nullptr, &PQclear};
};

}  // namespace drover::db
