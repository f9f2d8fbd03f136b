#pragma once
// Real Drover processes on a suite's own database: drover-api on a free
// loopback port and any number of drover-worker processes.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

namespace drover::test {

class DroverStack {
public:
    // kinds_json: the contents of a kinds file ("" = built-in kinds only).
    // The database gets two keys: test::default_api_key (app "default",
    // role admin), which test::http_request sends, and
    // test::default_operator_key for the admin listener.
    explicit DroverStack(const std::string& kinds_json = "");
    ~DroverStack();

    // Starts drover-api and waits until /readyz answers 200.
    void start_api(const std::map<std::string, std::string>& env = {});
    // Starts one drover-worker; returns its index in workers().
    std::size_t start_worker(const std::map<std::string, std::string>& env = {});

    int port() const { return port_; }
    int admin_port() const { return admin_port_; }
    TestDatabase& database() { return database_; }
    Process& api() { return *api_; }
    std::vector<std::unique_ptr<Process>>& workers() { return workers_; }
    const std::filesystem::path& dir() const { return dir_; }

    HttpResponse post_job(const std::string& body) { return http_request(port_, "POST", "/v1/jobs", body); }
    HttpResponse get_job(const std::string& id) { return http_request(port_, "GET", "/v1/jobs/" + id); }
    // Polls GET /v1/jobs/{id} until its status is one of the final ones; returns the last body.
    std::string wait_finished(const std::string& id, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // Everything the processes printed, for failure messages.
    std::string output() const;

private:
    std::map<std::string, std::string> base_env() const;

    TestDatabase database_;
    std::filesystem::path dir_;
    std::string kinds_file_;
    int port_ = 0;
    int admin_port_ = 0;
    std::unique_ptr<Process> api_;
    std::vector<std::unique_ptr<Process>> workers_;
};

// Extracts a top-level string field ("id", "status", …) from a JSON body.
std::string json_field(const std::string& body, const char* name);

}  // namespace drover::test
