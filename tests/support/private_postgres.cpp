#include "tests/support/private_postgres.hpp"

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

std::string PrivatePostgres::url() const {
    return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/drover?sslmode=disable";
}

}  // namespace drover::test
