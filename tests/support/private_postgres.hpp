#pragma once
// A Postgres server of a test's own (scripts/pg), for tests that must stop
// and restart the server under running processes: the shared test server
// cannot be restarted without breaking the suites running beside it.
#include <filesystem>
#include <string>

namespace drover::test {

class PrivatePostgres {
public:
    PrivatePostgres();  // init + start on a free port, database "drover" migrated
    ~PrivatePostgres();

    void stop();
    void start();  // on the same port and data
    std::string url() const;

private:
    void run(const std::string& args);

    std::filesystem::path dir_;
    int port_ = 0;
    std::string url_;
};

}  // namespace drover::test
