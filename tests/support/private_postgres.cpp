#include "tests/support/private_postgres.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace drover::test {

PrivatePostgres::PrivatePostgres() {
    char path[] = "/tmp/drover-pg-XXXXXX";
    if (!mkdtemp(path)) throw std::runtime_error("mkdtemp failed");
    dir_ = path;
    std::filesystem::remove(dir_);  // scripts/pg creates and owns it
    port_ = free_port();
    start();
    run("createdb '" + dir_.string() + "' drover");
    // The URL names the password file scripts/pg keeps (TCP needs the password).
    std::string command = std::string(DROVER_SOURCE_DIR) + "/scripts/pg url '" + dir_.string() + "' drover";
    if (FILE* out = popen(command.c_str(), "r")) {
        char buf[512];
        while (fgets(buf, sizeof buf, out)) url_ += buf;
        pclose(out);
    }
    while (!url_.empty() && (url_.back() == '\n' || url_.back() == ' ')) url_.pop_back();
    if (url_.empty()) throw std::runtime_error("scripts/pg url printed nothing");
    Process migrate(binary_path("drover"), {"migrate"}, {{"DROVER_DATABASE_URL", url()}});
    if (migrate.wait_exit(std::chrono::seconds(60)) != 0) {
        throw std::runtime_error("drover migrate failed:\n" + migrate.output());
    }
}

PrivatePostgres::~PrivatePostgres() {
    try {
        stop();
    } catch (...) {
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void PrivatePostgres::run(const std::string& args) {
    std::string command = std::string(DROVER_SOURCE_DIR) + "/scripts/pg " + args + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

void PrivatePostgres::stop() { run("stop '" + dir_.string() + "'"); }

void PrivatePostgres::start() { run("start '" + dir_.string() + "' " + std::to_string(port_) + " test"); }

std::string PrivatePostgres::url() const { return url_; }

}  // namespace drover::test
