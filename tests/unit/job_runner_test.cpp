#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/kinds.hpp"
#include "worker/job_runner.hpp"

using namespace drover;
using namespace drover::worker;
using namespace std::chrono_literals;

namespace {

int threads_of_this_process() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    }
    return -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_runner_test)

// Runner threads start when jobs need them (an idle worker has none), every
// slot still runs a job at once, and the pool never grows past its slots.
BOOST_AUTO_TEST_CASE(threads_start_on_demand_up_to_one_per_slot) {
    auto kinds = KindRegistry::parse(R"({"kinds": {"block": {"in_process": true}}})");
    std::mutex mutex;
    std::condition_variable changed;
    int running = 0, done = 0;
    bool release = false;
    std::set<std::thread::id> thread_ids;
    Handlers handlers;
    handlers.add("block", [&](JobControl&) {
        std::unique_lock lock(mutex);
        ++running;
        thread_ids.insert(std::this_thread::get_id());
        changed.notify_all();
        changed.wait(lock, [&] { return release; });
        --running;
        return AttemptResult::succeeded();
    });
    auto submit = [&](JobRunner& runner, std::int64_t id) {
        runner.submit(std::make_shared<JobControl>(ClaimedJob{id, "block", "default", "{}", 1, 1, std::nullopt}));
    };

    const int before = threads_of_this_process();
    constexpr int slots = 4;
    JobRunner runner(kinds, handlers, std::filesystem::temp_directory_path(), slots,
                     [&](const std::shared_ptr<JobControl>&, AttemptResult) {
                         std::lock_guard lock(mutex);
                         ++done;
                         changed.notify_all();
                     });
    BOOST_TEST(threads_of_this_process() == before);

    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < slots; ++i) submit(runner, round * slots + i + 1);
        std::unique_lock lock(mutex);
        BOOST_REQUIRE(changed.wait_for(lock, 10s, [&] { return running == slots; }));
        release = true;
        changed.notify_all();
        BOOST_REQUIRE(changed.wait_for(lock, 10s, [&] { return done == (round + 1) * slots; }));
        release = false;
    }
    BOOST_TEST(thread_ids.size() == static_cast<std::size_t>(slots));
    BOOST_TEST(threads_of_this_process() == before + slots);
    runner.stop();
    BOOST_TEST(threads_of_this_process() == before);
}

BOOST_AUTO_TEST_SUITE_END()
