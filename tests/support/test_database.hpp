#pragma once
// A database of its own for one test suite, cloned from a template that the
// first suite to need it migrates (Graphile Worker's trick: cloning takes
// milliseconds, migrating takes much longer). The template's name carries a
// hash of the migrations, so editing one makes a fresh template.
// Needs DROVER_TEST_DATABASE_URL: a superuser URL (scripts/test sets it).
#include <string>

#include "core/db/connection.hpp"

namespace drover::test {

// The server URL from DROVER_TEST_DATABASE_URL with another database name.
std::string database_url(const std::string& database);

class TestDatabase {
public:
    // migrated = false gives an empty database (for migration tests).
    explicit TestDatabase(bool migrated = true);
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    const std::string& name() const { return name_; }
    const std::string& url() const { return url_; }
    db::Connection connect() const { return db::Connection(url_, "drover-test"); }

private:
    std::string name_;
    std::string url_;
};

}  // namespace drover::test
