#include "api/handlers/jobs_handler.hpp"

#include <charconv>

#include "api/http_error.hpp"
#include "api/job_request.hpp"
#include "core/error.hpp"
#include "core/store/job_store.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

// Job ids are opaque to clients; today they are the decimal row id.
std::optional<std::int64_t> parse_job_id(const std::string& text) {
    std::int64_t id = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) return std::nullopt;
    return id;
}

}  // namespace

void JobsHandler::create(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter response) {
    NewJob job;
    try {
        // Parsing and validation are CPU-only: they stay on the reactor thread.
        job = parse_new_job(request.body(), kinds_, ctx.app);
    } catch (...) {
        send_reply(response, error_reply(std::current_exception(), ctx), ctx);
        return;
    }
    db_.run(std::move(response), std::move(ctx), [job = std::move(job)](db::Connection& conn) {
        auto inserted = JobStore(conn).insert(job);
        Reply reply{inserted.created ? Code::Accepted : Code::Ok, job_to_json(inserted.job), {}};
        reply.headers.emplace_back("Location", "/v1/jobs/" + std::to_string(inserted.job.id));
        return reply;
    });
}

void JobsHandler::get(RequestContext ctx, const Pistache::Rest::Request& request,
                      Pistache::Http::ResponseWriter response) {
    auto id = parse_job_id(request.param(":id").as<std::string>());
    if (!id) {
        send_reply(response, error_reply(Code::Not_Found, "not_found", "no such job", ctx), ctx);
        return;
    }
    db_.run(std::move(response), ctx, [id = *id, app = ctx.app](db::Connection& conn) {
        auto job = JobStore(conn).get(id, app);
        if (!job) throw NotFound("no such job");
        return Reply{Code::Ok, job_to_json(*job), {}};
    });
}

}  // namespace drover::api
