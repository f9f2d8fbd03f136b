#include "core/error.hpp"

namespace drover {

DbError::DbError(std::string message, std::string sqlstate, std::string query, bool connection_bad)
    : Error(query.empty() ? message : query + ": " + message),
      sqlstate_(std::move(sqlstate)),
      query_(std::move(query)),
      connection_bad_(connection_bad) {}

bool DbError::connection_lost() const {
    // 08: connection exception; 57P01..57P03: the server is shutting down or starting.
    return connection_bad_ || sqlstate_.starts_with("08") || sqlstate_ == "57P01" ||
           sqlstate_ == "57P02" || sqlstate_ == "57P03";
}

bool DbError::retryable() const {
    return connection_lost() || sqlstate_ == "40001" || sqlstate_ == "40P01" ||
           sqlstate_.starts_with("53");
}

bool DbError::bad_input() const {
    return sqlstate_.starts_with("22") || sqlstate_.starts_with("23");
}

}  // namespace drover
