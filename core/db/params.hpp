#pragma once
// Query parameters in Postgres text format. Arrays become array literals, so
// one statement can carry a whole batch (unnest($1::bigint[], …)).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drover::db {

class Params {
public:
    Params& null();
    Params& add(std::string_view text);
    Params& add(const char* text) { return add(std::string_view(text)); }
    Params& add(const std::string& text) { return add(std::string_view(text)); }
    Params& add(std::int64_t value);
    Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
    Params& add(double value);
    Params& add(bool value);
    template <typename T>
    Params& add(const std::optional<T>& value) {
        return value ? add(*value) : null();
    }
    Params& add(const std::vector<std::int64_t>& values);
    // Elements that are nullopt become SQL NULL.
    Params& add(const std::vector<std::optional<std::string>>& values);
    Params& add(const std::vector<std::string>& values);

    int size() const { return static_cast<int>(values_.size()); }
    // Pointers for PQexecPrepared; valid while this object lives unchanged.
    std::vector<const char*> pointers() const;

private:
    std::vector<std::optional<std::string>> values_;
};

// Quotes one element of a Postgres array literal.
void append_array_element(std::string& out, std::string_view element);

}  // namespace drover::db
