// The /v1 routes beyond create/get/cancel/logs, end to end: the listing
// (filters, keyset pages, newest first, stable under inserts), retry, delete,
// batch (all or none, errors named jobs[i].field) and queue summaries. Each
// case asserts the bodies and the stored rows; refused input writes nothing.
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/drover_stack.hpp"

using namespace drover;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    test::DroverStack stack;
    db::Connection c = stack.database().connect();

    Fixture() { stack.start_api(); }

    test::HttpResponse get(const std::string& path) { return test::http_request(stack.port(), "GET", path); }
    test::HttpResponse post(const std::string& path, const std::string& body) {
        return test::http_request(stack.port(), "POST", path, body);
    }
    std::int64_t count(const std::string& sql) { return e2e::scalar(c, sql); }

    // Inserts n jobs of app `app` (in SQL, far in the future) and returns their ids in order.
    std::vector<std::string> make_jobs(int n, const std::string& kind = "noop", const std::string& queue = "default",
                                       const std::string& app = "default") {
        std::vector<std::string> ids;
        for (int i = 0; i < n; ++i) {
            ids.emplace_back(c.exec("SELECT (drover.enqueue('" + kind + "', queue => '" + queue +
                                    "', run_at => now() + interval '1 day', app => '" + app + "')).id")
                                 .text(0, 0));
        }
        return ids;
    }
};

// The ids of a listing page, in order, and its next_cursor ("" when null).
std::pair<std::vector<std::string>, std::string> page(const test::HttpResponse& r) {
    auto doc = e2e::parse_json(r.body);
    BOOST_REQUIRE_MESSAGE(doc.IsObject() && doc["jobs"].IsArray(), r.status << " " << r.body);
    std::vector<std::string> ids;
    for (const auto& j : doc["jobs"].GetArray()) ids.emplace_back(j["id"].GetString());
    return {ids, doc["next_cursor"].IsString() ? doc["next_cursor"].GetString() : ""};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(jobs_routes_e2etest, Fixture)

BOOST_AUTO_TEST_CASE(listing_pages_newest_first_and_stays_stable_under_inserts) {
    auto ids = make_jobs(7);
    make_jobs(3, "noop", "default", "default");
    c.exec("INSERT INTO drover.apps (name) VALUES ('other')");
    make_jobs(4, "noop", "default", "other");  // never listed for this key
    std::vector<std::string> all(ids);
    auto more = c.exec("SELECT id FROM drover.jobs WHERE app = 'default' AND id > " + ids.back() + " ORDER BY id");
    for (int i = 0; i < more.rows(); ++i) all.emplace_back(more.text(i, 0));
    std::reverse(all.begin(), all.end());  // newest first: 10 jobs

    std::vector<std::string> seen;
    std::string cursor;
    for (int n = 0; n < 10; ++n) {
        auto r = get("/v1/jobs?limit=4" + (cursor.empty() ? "" : "&cursor=" + cursor));
        BOOST_REQUIRE_EQUAL(r.status, 200);
        auto [page_ids, next] = page(r);
        seen.insert(seen.end(), page_ids.begin(), page_ids.end());
        if (n == 0) make_jobs(2);  // inserted after page 1: they do not shift later pages
        if (next.empty()) break;
        cursor = next;
    }
    BOOST_TEST(seen == all, boost::test_tools::per_element());
    // 12 jobs now: a full last page has a next_cursor; the page after it is empty with none.
    auto first = page(get("/v1/jobs?limit=6"));
    auto second = page(get("/v1/jobs?limit=6&cursor=" + first.second));
    BOOST_TEST(second.first.size() == 6u);
    BOOST_TEST(second.first.back() == all.back());
    auto exact = page(get("/v1/jobs?limit=6&cursor=" + second.second));
    BOOST_TEST(exact.first.empty());
    BOOST_TEST(exact.second.empty());
}

BOOST_AUTO_TEST_CASE(listing_filters_by_status_kind_queue_and_creation_time) {
    auto sleeps = make_jobs(2, "sleep", "media");
    auto noops = make_jobs(3);
    c.exec("UPDATE drover.jobs SET status = 'failed', finished_at = now() WHERE id = " + noops[0]);
    c.exec("UPDATE drover.jobs SET created_at = '2020-01-01T00:00:00Z' WHERE id = " + noops[1]);

    BOOST_TEST(page(get("/v1/jobs?kind=sleep")).first == (std::vector<std::string>{sleeps[1], sleeps[0]}),
               boost::test_tools::per_element());
    BOOST_TEST(page(get("/v1/jobs?queue=media")).first.size() == 2u);
    BOOST_TEST(page(get("/v1/jobs?status=failed")).first == std::vector<std::string>{noops[0]},
               boost::test_tools::per_element());
    BOOST_TEST(page(get("/v1/jobs?status=failed,pending")).first.size() == 5u);
    BOOST_TEST(page(get("/v1/jobs?created_before=2021-01-01T00:00:00Z")).first ==
                   std::vector<std::string>{noops[1]},
               boost::test_tools::per_element());
    BOOST_TEST(page(get("/v1/jobs?created_after=2021-01-01T00:00:00Z&kind=noop")).first.size() == 2u);
}

BOOST_AUTO_TEST_CASE(listing_refuses_bad_parameters_with_the_field_named) {
    for (auto [query, field] : std::vector<std::pair<std::string, std::string>>{
             {"status=done", "status"},
             {"status=pending,", "status"},
             {"limit=0", "limit"},
             {"limit=501", "limit"},
             {"limit=x", "limit"},
             {"cursor=42", "cursor"},
             {"cursor=jzz", "cursor"},
             {"kind=a%20b", "kind"},
             {"created_after=yesterday", "created_after"},
             {"created_before=2026-02-30T00:00:00Z", "created_before"},
             {"colour=red", "colour"}}) {
        auto r = get("/v1/jobs?" + query);
        BOOST_TEST_CONTEXT(query << " → " << r.status << " " << r.body) {
            BOOST_TEST(r.status == 422);
            BOOST_TEST(e2e::is_error_body(r.body));
            BOOST_TEST(e2e::error_member(r.body, "field") == field);
        }
    }
}

BOOST_AUTO_TEST_CASE(retry_runs_a_failed_job_again_with_its_history_kept) {
    auto id = make_jobs(1)[0];
    auto pending = post("/v1/jobs/" + id + "/retry", "");
    BOOST_TEST(pending.status == 409);
    BOOST_TEST(e2e::error_member(pending.body, "code") == "not_retryable");
    c.exec("UPDATE drover.jobs SET status = 'failed', attempt = 3, max_attempts = 3, finished_at = now(),"
           " started_at = now(), last_error = 'boom', errors = '[{\"attempt\": 3, \"error\": \"boom\"}]' WHERE id = " +
           id);
    auto r = post("/v1/jobs/" + id + "/retry", "");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto doc = e2e::parse_json(r.body);
    BOOST_TEST(std::string(doc["status"].GetString()) == "pending");
    BOOST_TEST(doc["attempt"].GetInt() == 0);
    BOOST_TEST(doc["finished_at"].IsNull());
    BOOST_TEST(doc["errors"].Size() == 1u);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id = " + id +
                     " AND status = 'pending' AND attempt = 0 AND last_error = 'boom' AND run_at <= now()") == 1);
    BOOST_TEST(post("/v1/jobs/987654321/retry", "").status == 404);

    // A retry counts against the app's job limit.
    c.exec("UPDATE drover.jobs SET status = 'cancelled', finished_at = now() WHERE id = " + id);
    make_jobs(1);
    c.exec("UPDATE drover.apps SET max_unfinished_jobs = 1 WHERE name = 'default'");
    auto over = post("/v1/jobs/" + id + "/retry", "");
    BOOST_TEST(over.status == 429);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id = " + id + " AND status = 'cancelled'") == 1);
}

BOOST_AUTO_TEST_CASE(delete_removes_a_finished_job_and_its_log_only) {
    auto ids = make_jobs(2);
    for (const auto& id : ids) {
        c.exec("INSERT INTO drover.job_logs (job_id, attempt, stream, at, line) VALUES (" + id +
               ", 1, 'stdout', now(), 'x'), (" + id + ", 1, 'stderr', now(), 'y')");
    }
    auto unfinished = test::http_request(stack.port(), "DELETE", "/v1/jobs/" + ids[0]);
    BOOST_TEST(unfinished.status == 409);
    BOOST_TEST(count("SELECT count(*) FROM drover.job_logs WHERE job_id = " + ids[0]) == 2);
    c.exec("UPDATE drover.jobs SET status = 'succeeded', finished_at = now() WHERE id = " + ids[0]);
    auto r = test::http_request(stack.port(), "DELETE", "/v1/jobs/" + ids[0]);
    BOOST_TEST(r.status == 204);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id = " + ids[0]) == 0);
    BOOST_TEST(count("SELECT count(*) FROM drover.job_logs WHERE job_id = " + ids[0]) == 0);
    BOOST_TEST(count("SELECT count(*) FROM drover.job_logs WHERE job_id = " + ids[1]) == 2);
    BOOST_TEST(test::http_request(stack.port(), "DELETE", "/v1/jobs/" + ids[0]).status == 404);
}

BOOST_AUTO_TEST_CASE(batch_inserts_all_in_order_or_none_and_names_the_bad_job) {
    std::string jobs;
    for (int i = 0; i < 20; ++i) {
        jobs += (i ? "," : "") + std::string(R"({"kind": "sleep", "args": {"ms": )") + std::to_string(i) +
                R"(}, "run_at": "2099-01-01T00:00:00Z"})";
    }
    auto ok = post("/v1/jobs/batch", "{\"jobs\": [" + jobs + "]}");
    BOOST_REQUIRE_EQUAL(ok.status, 202);
    auto doc = e2e::parse_json(ok.body);
    BOOST_REQUIRE(doc["ids"].IsArray());
    BOOST_TEST(doc["ids"].Size() == 20u);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs WHERE id = " + std::string(doc["ids"][17].GetString()) +
                     " AND (args->>'ms')::int = 17") == 1);

    auto before = count("SELECT count(*) FROM drover.jobs");
    std::string bad = jobs.substr(0, jobs.size());
    // Job 17's ms becomes a string.
    auto at = bad.find(R"("ms": 17)");
    bad.replace(at, 8, R"("ms": "x")");
    auto r = post("/v1/jobs/batch", "{\"jobs\": [" + bad + "]}");
    BOOST_TEST(r.status == 422);
    BOOST_TEST(e2e::error_member(r.body, "field") == "jobs[17].args.ms", r.body);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == before);

    for (auto [body, field] : std::vector<std::pair<std::string, std::string>>{
             {R"({"jobs": []})", "jobs"},
             {R"({"jobs": {}})", "jobs"},
             {R"({})", "jobs"},
             {R"({"jobs": [{"kind": "noop"}], "x": 1})", "x"},
             {R"({"jobs": [{"kind": "noop"}, 5]})", "jobs[1]"},
             {R"({"jobs": [{"kind": "noop"}, {"kind": "nope"}]})", "jobs[1].kind"}}) {
        auto refused = post("/v1/jobs/batch", body);
        BOOST_TEST_CONTEXT(body << " → " << refused.status << " " << refused.body) {
            BOOST_TEST(refused.status == 422);
            BOOST_TEST(e2e::error_member(refused.body, "field") == field);
        }
    }
    // A duplicate unique key (of an unfinished job) fails the whole batch.
    auto dup = post("/v1/jobs/batch", R"({"jobs": [{"kind": "noop"}, {"kind": "noop", "unique_key": "k"},)"
                                      R"( {"kind": "noop", "unique_key": "k"}]})");
    BOOST_TEST(dup.status == 409);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == before);
    // Past the app's limit: none of the batch.
    c.exec("UPDATE drover.apps SET max_unfinished_jobs = " + std::to_string(before + 1) + " WHERE name = 'default'");
    auto over = post("/v1/jobs/batch", R"({"jobs": [{"kind": "noop"}, {"kind": "noop"}]})");
    BOOST_TEST(over.status == 429);
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == before);
    // 10,001 jobs are refused before anything is parsed further.
    std::string huge = "{\"jobs\": [";
    for (int i = 0; i < 10001; ++i) huge += i ? ",{}" : "{}";
    auto too_many = post("/v1/jobs/batch", huge + "]}");
    BOOST_TEST(too_many.status == 422);
    BOOST_TEST(e2e::error_member(too_many.body, "field") == "jobs");
}

BOOST_AUTO_TEST_CASE(batch_keeps_every_digit_of_args_and_refuses_duplicate_keys_inside) {
    // A command kind takes any args object.
    test::DroverStack anyargs(e2e::kinds_file({e2e::CommandKind("any", "true")}));
    anyargs.start_api();
    db::Connection c = anyargs.database().connect();
    auto post = [&](const std::string& path, const std::string& body) {
        return test::http_request(anyargs.port(), "POST", path, body);
    };
    auto count = [&](const std::string& sql) { return e2e::scalar(c, sql); };
    auto ok = post("/v1/jobs/batch",
                   R"({"jobs": [{"kind": "any", "args": {"n": 123456789012345678901234567890, "s": "a,]}\""}},)"
                   R"( {"kind": "any", "args": {"big": 18446744073709551617, "list": [1, [2.50, {"x": 3}]]}}]})");
    BOOST_REQUIRE_MESSAGE(ok.status == 202, ok.body);
    auto answer = e2e::parse_json(ok.body);
    BOOST_REQUIRE(answer["ids"].IsArray() && answer["ids"].Size() == 2u);
    auto args = [&](rapidjson::SizeType i) {
        return e2e::text_value(c, "SELECT args::text FROM drover.jobs WHERE id = " +
                                      std::string(answer["ids"][i].GetString()));
    };
    BOOST_TEST(args(0) == R"({"n": 123456789012345678901234567890, "s": "a,]}\""})");
    BOOST_TEST(args(1) == R"({"big": 18446744073709551617, "list": [1, [2.50, {"x": 3}]]})");
    auto before = count("SELECT count(*) FROM drover.jobs");
    auto dup = post("/v1/jobs/batch", R"({"jobs": [{"kind": "any"}, {"kind": "any", "args": {"a": 1, "a": 2}}]})");
    BOOST_TEST(dup.status == 422, dup.body);
    BOOST_TEST(e2e::error_member(dup.body, "code") == "duplicate_field");
    BOOST_TEST(count("SELECT count(*) FROM drover.jobs") == before);
}

BOOST_AUTO_TEST_CASE(queues_count_the_apps_jobs_by_status) {
    make_jobs(2, "noop", "media");
    auto d = make_jobs(1);
    c.exec("UPDATE drover.jobs SET status = 'succeeded', finished_at = now() WHERE id = " + d[0]);
    c.exec("UPDATE drover.jobs SET run_at = now() - interval '30 s' WHERE queue = 'media'");
    c.exec("INSERT INTO drover.queue_limits VALUES ('media', 3)");
    c.exec("INSERT INTO drover.apps (name) VALUES ('other')");
    make_jobs(5, "noop", "secret-queue", "other");
    auto r = get("/v1/queues");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.body.find("secret-queue") == std::string::npos);
    auto doc = e2e::parse_json(r.body);
    BOOST_REQUIRE(doc["queues"].IsArray());
    BOOST_REQUIRE_EQUAL(doc["queues"].Size(), 2u);
    const auto& def = doc["queues"][0];
    const auto& media = doc["queues"][1];
    BOOST_TEST(std::string(def["queue"].GetString()) == "default");
    BOOST_TEST(def["counts"]["succeeded"].GetInt() == 1);
    BOOST_TEST(def["oldest_pending_age_s"].IsNull());
    BOOST_TEST(def["concurrency"].IsNull());
    BOOST_TEST(media["counts"]["pending"].GetInt() == 2);
    BOOST_TEST(media["oldest_pending_age_s"].GetDouble() >= 29.0);
    BOOST_TEST(media["concurrency"].GetInt() == 3);
}

BOOST_AUTO_TEST_CASE(status_tells_version_uptime_schema_and_pool_use) {
    auto r = get("/status");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto doc = e2e::parse_json(r.body);
    BOOST_REQUIRE(doc.IsObject());
    BOOST_TEST(std::string(doc["version"].GetString()) == "0.1.0");
    BOOST_TEST(doc["uptime_s"].GetDouble() > 0.0);
    BOOST_TEST(doc["database"]["reachable"].GetBool());
    BOOST_TEST(doc["database"]["schema_current"].GetBool());
    BOOST_TEST(std::string(doc["database"]["schema_version"].GetString()) ==
               std::string(doc["database"]["schema_expected"].GetString()));
    BOOST_TEST(doc["pool"]["connections"].GetInt() == 4);
    BOOST_TEST(doc["pool"]["queue_limit"].GetInt() == 1024);
    BOOST_TEST(test::http_request_as("", stack.port(), "GET", "/status").status == 401);
}

BOOST_AUTO_TEST_CASE(root_path_prefixes_every_public_route_and_location) {
    int port = test::free_port();
    std::map<std::string, std::string> env = {{"DROVER_DATABASE_URL", stack.database().url()},
                                              {"DROVER_PORT", std::to_string(port)},
                                              {"DROVER_ADMIN_PORT", std::to_string(test::free_port())},
                                              {"DROVER_ROOT_PATH", "/drover"}};
    test::Process api(test::binary_path("drover-api"), {}, env);
    BOOST_REQUIRE(e2e::poll_until([&] { return test::http_request(port, "GET", "/drover/readyz").status == 200; },
                                  10s, 50ms));
    auto r = test::http_request(port, "POST", "/drover/v1/jobs", R"({"kind": "noop", "run_at": "2099-01-01T00:00:00Z"})");
    BOOST_REQUIRE_EQUAL(r.status, 202);
    BOOST_TEST(r.headers["location"] == "/drover/v1/jobs/" + test::json_field(r.body, "id"));
    BOOST_TEST(test::http_request(port, "GET", r.headers["location"]).status == 200);
    BOOST_TEST(test::http_request(port, "GET", "/v1/jobs/" + test::json_field(r.body, "id")).status == 404);
    BOOST_TEST(test::http_request(port, "GET", "/healthz").status == 404);

    for (const char* bad : {"drover", "/drover/", "/a b", "//x"}) {
        env["DROVER_ROOT_PATH"] = bad;
        env["DROVER_PORT"] = std::to_string(test::free_port());
        test::Process refused(test::binary_path("drover-api"), {}, env);
        BOOST_TEST(refused.wait_exit(10s).value_or(-1) == 2, bad << ": " << refused.output());
    }
}

BOOST_AUTO_TEST_CASE(wait_answers_when_the_job_finishes_or_the_time_is_up) {
    auto id = make_jobs(1)[0];
    auto t0 = std::chrono::steady_clock::now();
    test::HttpResponse answer;
    std::chrono::steady_clock::time_point answered;
    std::thread waiter([&] {
        answer = get("/v1/jobs/" + id + "?wait=10");
        answered = std::chrono::steady_clock::now();
    });
    std::this_thread::sleep_for(800ms);
    auto finished_at = std::chrono::steady_clock::now();
    c.exec("UPDATE drover.jobs SET status = 'succeeded', finished_at = now() WHERE id = " + id);
    waiter.join();
    BOOST_TEST(answer.status == 200);
    BOOST_TEST(test::json_field(answer.body, "status") == "succeeded");
    BOOST_TEST((answered - finished_at < 600ms), "answered "
                   << std::chrono::duration_cast<std::chrono::milliseconds>(answered - finished_at).count()
                   << " ms after the job finished");
    BOOST_TEST((answered - t0 > 700ms));

    // Time up: the job as it is.
    auto pending = make_jobs(1)[0];
    t0 = std::chrono::steady_clock::now();
    auto r = get("/v1/jobs/" + pending + "?wait=1");
    auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(r.status == 200);
    BOOST_TEST(test::json_field(r.body, "status") == "pending");
    BOOST_TEST((took >= 1s && took < 2500ms));

    // Another app's job or an unknown id: 404 at once, as without wait.
    c.exec("INSERT INTO drover.apps (name) VALUES ('other')");
    auto foreign = make_jobs(1, "noop", "default", "other")[0];
    for (const auto& other : {foreign, std::string("987654321")}) {
        t0 = std::chrono::steady_clock::now();
        auto nf = get("/v1/jobs/" + other + "?wait=10");
        BOOST_TEST(nf.status == 404);
        BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1s));
    }
    BOOST_TEST(get("/v1/jobs/" + id + "?wait=61").status == 422);
    // A finished job comes back at once.
    t0 = std::chrono::steady_clock::now();
    BOOST_TEST(get("/v1/jobs/" + id + "?wait=10").status == 200);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1s));
}

BOOST_AUTO_TEST_CASE(logs_wait_answers_when_a_line_arrives) {
    auto id = make_jobs(1)[0];
    test::HttpResponse answer;
    std::thread waiter([&] { answer = get("/v1/jobs/" + id + "/logs?after=0&wait=10"); });
    std::this_thread::sleep_for(500ms);
    auto at = std::chrono::steady_clock::now();
    c.exec("INSERT INTO drover.job_logs (job_id, attempt, stream, at, line) VALUES (" + id +
           ", 1, 'stdout', now(), 'hello')");
    waiter.join();
    BOOST_TEST((std::chrono::steady_clock::now() - at < 800ms));
    BOOST_TEST(answer.status == 200);
    auto doc = e2e::parse_json(answer.body);
    BOOST_REQUIRE(doc.IsObject());
    BOOST_REQUIRE_EQUAL(doc["lines"].Size(), 1u);
    BOOST_TEST(std::string(doc["lines"][0]["line"].GetString()) == "hello");
    // Following with the new cursor waits again, and times out empty.
    auto next = std::string(doc["next_cursor"].GetString());
    auto t0 = std::chrono::steady_clock::now();
    auto empty = get("/v1/jobs/" + id + "/logs?after=" + next + "&wait=1");
    BOOST_TEST(empty.status == 200);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 1s));
    BOOST_TEST(e2e::parse_json(empty.body)["lines"].Size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_kinds_args_schema_refuses_bad_args_in_posts_and_batches) {
    test::DroverStack schema_stack(R"({"kinds": {"thumb": {"command": ["true"], "args_schema": {
        "type": "object", "required": ["width"],
        "properties": {"width": {"type": "integer", "minimum": 1, "maximum": 4096}}}}}})");
    schema_stack.start_api();
    auto post_to = [&](const std::string& path, const std::string& body) {
        return test::http_request(schema_stack.port(), "POST", path, body);
    };
    BOOST_TEST(post_to("/v1/jobs", R"({"kind": "thumb", "args": {"width": 64}, "run_at": "2099-01-01T00:00:00Z"})")
                   .status == 202);
    auto bad = post_to("/v1/jobs", R"({"kind": "thumb", "args": {"width": 0}})");
    BOOST_TEST(bad.status == 422);
    BOOST_TEST(e2e::error_member(bad.body, "code") == "invalid_args");
    BOOST_TEST(e2e::error_member(bad.body, "field") == "args.width");
    auto batch = post_to("/v1/jobs/batch", R"({"jobs": [{"kind": "thumb", "args": {"width": 1}},)"
                                           R"( {"kind": "thumb", "args": {}}]})");
    BOOST_TEST(batch.status == 422);
    BOOST_TEST(e2e::error_member(batch.body, "field") == "jobs[1].args");
    auto conn = schema_stack.database().connect();
    BOOST_TEST(e2e::job_count(conn) == 1);
}

BOOST_AUTO_TEST_CASE(openapi_and_docs_need_no_key) {
    auto r = test::http_request_as("", stack.port(), "GET", "/openapi.json");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto doc = e2e::parse_json(r.body);
    BOOST_REQUIRE(doc.IsObject());
    BOOST_TEST(std::string(doc["openapi"].GetString()) == "3.0.3");
    BOOST_TEST(doc["paths"].HasMember("/v1/jobs"));
    auto page = test::http_request_as("", stack.port(), "GET", "/docs");
    BOOST_TEST(page.status == 200);
    BOOST_TEST(page.headers["content-type"].starts_with("text/html"));
    BOOST_TEST(page.body.find("fetch(\"openapi.json\")") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
