// drover submit / jobs / show / logs / cancel / retry over HTTP against a
// local Drover that drover start brought up (URL and key from its state
// file), and against DROVER_URL / DROVER_API_KEY.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/e2e/drover_cli.hpp"

namespace drover::e2e {
namespace {

using namespace std::chrono_literals;

struct LocalDrover : LocalDroverWith {
    LocalDrover()
        : LocalDroverWith({CommandKind("chatty", "echo first line; echo to stderr >&2; echo last line"),
                           CommandKind("broken", "echo about to fail; exit 3").attempts(1).permanent({3}),
                           CommandKind("slow", "sleep 30")}) {}
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(client_commands_e2etest, LocalDrover)

BOOST_AUTO_TEST_CASE(submit_wait_prints_the_log_and_exits_with_the_outcome) {
    auto ok = drover({"submit", "chatty", "--wait"});
    BOOST_TEST(ok.status == 0);
    BOOST_TEST(ok.out.find("first line\n") != std::string::npos);
    BOOST_TEST(ok.out.find("last line\n") != std::string::npos);
    BOOST_TEST(ok.err.find("to stderr") != std::string::npos);
    BOOST_TEST(ok.out.find("succeeded") != std::string::npos);

    auto failed = drover({"submit", "broken", "--wait"});
    BOOST_TEST(failed.status == 1);
    BOOST_TEST(failed.out.find("about to fail") != std::string::npos);

    auto json = drover({"submit", "noop", "--wait", "--json"});
    BOOST_TEST(json.status == 0);
    BOOST_TEST(every_line_is_json(json.out), json.out);
    BOOST_TEST(json.out.find("\"succeeded\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_cancelled_job_makes_submit_wait_exit_4) {
    auto submitted = drover({"submit", "slow", "--json"});
    BOOST_REQUIRE(submitted.status == 0);
    BOOST_TEST(every_line_is_json(submitted.out));
    std::string id = job_id(submitted.out);
    BOOST_REQUIRE(!id.empty());
    auto cancelled = drover({"cancel", id, "--json"});
    BOOST_TEST(cancelled.status == 0);
    BOOST_TEST(every_line_is_json(cancelled.out));
    // --wait on a job that ends cancelled: follow it with logs --follow's machinery.
    auto waited = drover({"logs", id, "--follow"});
    BOOST_TEST(waited.status == 0);
    auto shown = drover({"show", id, "--json"});
    BOOST_TEST(shown.out.find("\"cancelled\"") != std::string::npos);
    // And through submit --wait: cancel from another process while it waits.
    pid_t canceller = fork();
    if (canceller == 0) {
        // Until the waiting submit's job exists (a loaded machine may take a while).
        for (int tries = 0; tries < 40; ++tries) {
            std::this_thread::sleep_for(500ms);
            auto list = run_drover({"jobs", "--status", "running,pending", "--kind", "slow", "--json"}, env);
            auto doc = parse_json(list.out);
            if (!doc.IsObject() || !doc["jobs"].IsArray() || doc["jobs"].Empty()) continue;
            for (const auto& j : doc["jobs"].GetArray()) run_drover({"cancel", j["id"].GetString()}, env);
            break;
        }
        _exit(0);
    }
    auto wait_cancelled = drover({"submit", "slow", "--wait"});
    waitpid(canceller, nullptr, 0);
    BOOST_TEST(wait_cancelled.status == 4);
}

BOOST_AUTO_TEST_CASE(jobs_show_logs_retry_and_errors) {
    auto failed = drover({"submit", "broken", "--wait", "--json"});
    BOOST_REQUIRE(failed.status == 1);
    std::string id = job_id(last_line(failed.out));
    BOOST_REQUIRE(!id.empty());

    auto listed = drover({"jobs", "--json"});
    BOOST_TEST(listed.status == 0);
    BOOST_TEST(every_line_is_json(listed.out));
    BOOST_TEST(listed.out.find("\"id\":\"" + id + "\"") != std::string::npos);
    auto human = drover({"jobs", "--status", "failed"});
    BOOST_TEST(human.out.find(id + "\tfailed\tbroken") != std::string::npos);

    auto logs = drover({"logs", id});
    BOOST_TEST(logs.status == 0);
    BOOST_TEST(logs.out.find("about to fail") != std::string::npos);

    auto retried = drover({"retry", id, "--json"});
    BOOST_TEST(retried.status == 0);
    BOOST_TEST(retried.out.find("\"pending\"") != std::string::npos);

    auto missing = drover({"show", "999999"});
    BOOST_TEST(missing.status == 2);
    BOOST_TEST(missing.err.find("404") != std::string::npos);
    auto bad_args = drover({"submit", "noop", "--args", "{not json"});
    BOOST_TEST(bad_args.status == 2);

    // DROVER_URL / DROVER_API_KEY win over the state file: a wrong key is refused.
    auto env_wrong = env;
    env_wrong["DROVER_API_KEY"] = "drv_0000000000000000_" + std::string(64, '0');
    auto refused = run_drover({"jobs"}, env_wrong);
    BOOST_TEST(refused.status == 2);
    BOOST_TEST(refused.err.find("401") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(exit_codes_tell_timeout_unreachable_and_usage_apart) {
    // --timeout passes while the job runs: 5, and the job goes on.
    auto timed_out = drover({"submit", "slow", "--wait", "--timeout", "2"});
    BOOST_TEST(timed_out.status == 5);
    BOOST_TEST(timed_out.err.find("--timeout 2") != std::string::npos, timed_out.err);
    auto list = parse_json(drover({"jobs", "--kind", "slow", "--json"}).out);
    BOOST_TEST_REQUIRE(list["jobs"].Size() == 1u);
    std::string id = list["jobs"][0]["id"].GetString();
    std::string status = list["jobs"][0]["status"].GetString();
    BOOST_TEST((status == "running" || status == "pending"), status);
    BOOST_TEST(drover({"cancel", id}).status == 0);
    auto follow_timeout = drover({"logs", id, "--follow", "--timeout", "20"});
    BOOST_TEST(follow_timeout.status == 0);

    // Nothing listens there: 3, for every client command.
    auto env_down = env;
    env_down["DROVER_URL"] = "http://127.0.0.1:1";
    env_down["DROVER_API_KEY"] = "drv_0000000000000000_" + std::string(64, '0');
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"jobs"}, {"submit", "noop", "--wait"}, {"artifacts", "1", "--download", state.file("dl")}}) {
        auto unreachable = run_drover(args, env_down);
        BOOST_TEST(unreachable.status == 3, args.front());
        BOOST_TEST(unreachable.err.find("did not answer") != std::string::npos);
    }

    // Usage errors: 2, before anything is sent.
    for (const auto& args : std::vector<std::vector<std::string>>{{"submit"},
                                                                  {"submit", "noop", "--timeout", "soon"},
                                                                  {"submit", "noop", "--args", "[1]"},
                                                                  {"submit", "noop", "--no-such-option", "x"},
                                                                  {"show"},
                                                                  {"artifacts", "1", "--overwrite"},
                                                                  {"submit", "noop", "--priority", "high"}}) {
        auto bad = drover(args);
        BOOST_TEST(bad.status == 2, args.back());
    }
    auto jobs = parse_json(drover({"jobs", "--kind", "noop", "--json"}).out);
    BOOST_TEST(jobs["jobs"].Size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace drover::e2e
