#include "api/handlers/jobs_handler.hpp"

#include <charconv>

#include "api/http_error.hpp"
#include "api/job_request.hpp"
#include "api/job_submission.hpp"
#include "core/error.hpp"
#include "core/store/job_store.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

// Job ids are opaque to clients; today they are the decimal row id. Anything
// else is simply a job that does not exist.
std::int64_t job_id(const Pistache::Rest::Request& request) {
    auto text = request.param(":id").as<std::string>();
    std::int64_t id = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) throw NotFound("no such job");
    return id;
}

// A query parameter as a number in [lo, hi], or `fallback` when absent.
std::int64_t query_number(const Pistache::Rest::Request& request, const std::string& name, std::int64_t fallback,
                          std::int64_t lo, std::int64_t hi) {
    auto value = request.query().get(name);
    if (!value) return fallback;
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
    if (ec != std::errc() || ptr != value->data() + value->size() || n < lo || n > hi) {
        throw InputError(InputError::Kind::invalid, "invalid_value",
                         "\"" + name + "\" must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi),
                         name);
    }
    return n;
}

}  // namespace

void JobsHandler::create(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter& response) {
    // Parsing and validation are CPU-only: they stay on the reactor thread.
    NewJob job = parse_new_job(request.body(), kinds_, ctx.app);
    std::optional<std::string> header;
    if (auto raw = request.headers().tryGetRaw("Idempotency-Key")) header = raw->value();
    auto key = idempotency_key(header);
    db_.run(std::move(response), ctx,
            [job = std::move(job), key = std::move(key), body = request.body(), ctx,
             wait = db_.commit_check_wait()](db::Connection& conn) { return submit_job(conn, job, key, body, ctx, wait); });
}

void JobsHandler::get(RequestContext ctx, const Pistache::Rest::Request& request,
                      Pistache::Http::ResponseWriter& response) {
    auto id = job_id(request);  // before the response is handed on: it may throw
    db_.run(std::move(response), ctx, [id, app = ctx.app](db::Connection& conn) {
        auto job = JobStore(conn).get(id, app);
        if (!job) throw NotFound("no such job");
        return Reply{Code::Ok, job_to_json(*job), {}};
    });
}

void JobsHandler::cancel(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter& response) {
    auto id = job_id(request);
    db_.run(std::move(response), ctx, [id, ctx](db::Connection& conn) {
        JobStore store(conn);
        if (auto job = store.cancel(id, ctx.app)) return Reply{Code::Ok, job_to_json(*job), {}};
        auto job = store.get(id, ctx.app);
        if (!job) throw NotFound("no such job");
        return error_reply(Code::Conflict, "already_finished", "the job already finished: " + job->status, ctx);
    });
}

void JobsHandler::logs(RequestContext ctx, const Pistache::Rest::Request& request,
                       Pistache::Http::ResponseWriter& response) {
    auto id = job_id(request);
    auto after = query_number(request, "after", 0, 0, INT64_MAX);
    auto limit = query_number(request, "limit", 1000, 1, 5000);
    db_.run(std::move(response), ctx, [id, after, limit, app = ctx.app](db::Connection& conn) {
        JobStore store(conn);
        auto lines = store.logs_page(id, app, after, static_cast<int>(limit));
        if (lines.empty() && !store.get(id, app)) throw NotFound("no such job");
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("lines");
        w.StartArray();
        for (const auto& l : lines) {
            w.StartObject();
            w.Key("cursor");
            w.String(std::to_string(l.id));
            w.Key("attempt");
            w.Int(l.attempt);
            w.Key("stream");
            w.String(l.stream);
            w.Key("at");
            w.String(l.at);
            w.Key("line");
            w.String(l.line);
            w.EndObject();
        }
        w.EndArray();
        // Pass it back as ?after= for the next page; unchanged when there was nothing new.
        w.Key("next_cursor");
        w.String(std::to_string(lines.empty() ? after : lines.back().id));
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

}  // namespace drover::api
