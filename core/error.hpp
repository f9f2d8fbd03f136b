#pragma once
// Drover's exception hierarchy, documented once here:
//  - Error: the base; anything Drover throws on purpose.
//  - DbError: a failed database call, with the SQLSTATE and the named query.
//      connection_lost(): the connection is unusable; reconnect and retry.
//      retryable(): the same statement may succeed if tried again
//      (connection lost, serialization failure, deadlock, server shutting down).
//  - InputError: the caller's input is wrong (HTTP 400/422, CLI usage error),
//      with a stable code and, where there is one, the offending field.
//  - NotFound: the thing asked for does not exist (or belongs to another app).
//  - ConfigError: the operator's configuration is wrong; the process refuses to start.
#include <stdexcept>
#include <string>

namespace drover {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class DbError : public Error {
public:
    DbError(std::string message, std::string sqlstate, std::string query, bool connection_bad);

    const std::string& sqlstate() const { return sqlstate_; }
    const std::string& query() const { return query_; }
    bool connection_lost() const;
    bool retryable() const;
    // Class 22 (data exception) and 23 (integrity constraint): the input was bad.
    bool bad_input() const;

private:
    std::string sqlstate_;
    std::string query_;
    bool connection_bad_;
};

class InputError : public Error {
public:
    enum class Kind { malformed, invalid };  // 400: cannot parse; 422: parsed but not acceptable

    InputError(Kind kind, std::string code, std::string message, std::string field = {})
        : Error(std::move(message)), kind_(kind), code_(std::move(code)), field_(std::move(field)) {}

    Kind kind() const { return kind_; }
    const std::string& code() const { return code_; }
    const std::string& field() const { return field_; }

private:
    Kind kind_;
    std::string code_;
    std::string field_;
};

class NotFound : public Error {
public:
    using Error::Error;
};

class ConfigError : public Error {
public:
    using Error::Error;
};

}  // namespace drover
