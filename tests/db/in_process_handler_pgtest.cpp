// A C++ handler registered on a Worker (worker/handlers.hpp) runs jobs of an
// in-process kind declared in the kinds file, with progress and a result.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <thread>

#include "core/error.hpp"
#include "core/json.hpp"
#include "tests/support/test_database.hpp"
#include "tests/support/wait.hpp"
#include "worker/worker.hpp"

using namespace drover;

BOOST_AUTO_TEST_SUITE(in_process_handler_pgtest)

BOOST_AUTO_TEST_CASE(a_registered_handler_runs_its_kind) {
    test::TestDatabase database;
    auto kinds = KindRegistry::parse(R"({"kinds": {"double": {"in_process": true, "max_attempts": 2}}})");
    BOOST_REQUIRE((kinds.find("double")->type == Kind::Type::in_process));

    auto handlers = worker::Handlers::with_builtins();
    handlers.add("double", [](worker::JobControl& job) {
        auto args = json::parse(job.job().args_json);
        job.progress(50, "doubling");
        job.log("stdout", "doubling " + std::to_string(args["n"].GetInt()));
        return worker::AttemptResult::succeeded("{\"n\": " + std::to_string(args["n"].GetInt() * 2) + "}");
    });

    worker::WorkerOptions options;
    options.database_url = database.url();
    options.worker_id = "in-process-test";
    options.poll_interval = std::chrono::milliseconds(100);
    options.state_dir = std::filesystem::temp_directory_path() / ("drover-" + database.name());
    worker::Worker worker(options, kinds, handlers);
    std::thread running([&] { worker.run(); });

    auto conn = database.connect();
    auto id = conn.exec("SELECT (drover.enqueue('double', '{\"n\": 21}')).id").int64(0, 0);
    auto done = test::wait_until([&] {
        return conn.exec("SELECT status FROM drover.jobs WHERE id = " + std::to_string(id)).text(0, 0) == "succeeded";
    });
    worker.stop();
    running.join();
    std::filesystem::remove_all(options.state_dir);

    BOOST_REQUIRE(done);
    auto row = conn.exec("SELECT result->>'n', progress_percent, progress_message FROM drover.jobs WHERE id = " +
                         std::to_string(id));
    BOOST_TEST(row.text(0, 0) == "42");
    BOOST_TEST(row.int64(0, 1) == 50);
    BOOST_TEST(row.text(0, 2) == "doubling");
    auto log = conn.exec("SELECT line FROM drover.job_logs WHERE job_id = " + std::to_string(id));
    BOOST_REQUIRE(log.rows() == 1);
    BOOST_TEST(log.text(0, 0) == "doubling 21");
}

BOOST_AUTO_TEST_CASE(kinds_file_refuses_in_process_with_a_command) {
    BOOST_CHECK_THROW(KindRegistry::parse(R"({"kinds": {"k": {"in_process": true, "command": ["x"]}}})"), ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
