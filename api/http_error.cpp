#include "api/http_error.hpp"

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "core/json.hpp"

namespace drover::api {

using Pistache::Http::Code;

Reply error_reply(Code code, const std::string& error_code, const std::string& message, const RequestContext& ctx,
                  const std::string& field) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("error");
    w.StartObject();
    w.Key("code");
    w.String(error_code);
    w.Key("message");
    w.String(message);
    if (!field.empty()) {
        w.Key("field");
        w.String(field);
    }
    w.Key("request_id");
    w.String(ctx.request_id);
    w.EndObject();
    w.EndObject();
    Reply r{code, std::string(buffer.GetString(), buffer.GetSize()), {}};
    if (code == Code::Service_Unavailable) r.headers.emplace_back("Retry-After", "1");
    return r;
}

Reply error_reply(std::exception_ptr error, const RequestContext& ctx) {
    try {
        std::rethrow_exception(error);
    } catch (const InputError& e) {
        auto code = e.kind() == InputError::Kind::malformed ? Code::Bad_Request : Code::Unprocessable_Entity;
        return error_reply(code, e.code(), e.what(), ctx, e.field());
    } catch (const NotFound& e) {
        return error_reply(Code::Not_Found, "not_found", e.what(), ctx);
    } catch (const DbError& e) {
        if (e.sqlstate() == "DR429") {  // drover.check_app_limits(): the app's max_unfinished_jobs
            spdlog::info("request {}: {}", ctx.request_id, e.what());
            auto r = error_reply(Code::Too_Many_Requests, "app_limit_reached",
                                 "the app has as many unfinished jobs as its limit allows; "
                                 "wait for some to finish",
                                 ctx);
            r.headers.emplace_back("Retry-After", "1");
            return r;
        }
        if (e.sqlstate() == "57014") {
            spdlog::warn("request {}: {}", ctx.request_id, e.what());
            return error_reply(Code::Service_Unavailable, "timeout", "the database took too long; try again", ctx);
        }
        if (e.retryable()) {
            spdlog::warn("request {}: {}", ctx.request_id, e.what());
            return error_reply(Code::Service_Unavailable, "database_unavailable",
                               "the database is unavailable; try again", ctx);
        }
        if (e.bad_input()) {
            spdlog::info("request {}: rejected by the database: {}", ctx.request_id, e.what());
            return error_reply(Code::Unprocessable_Entity, "invalid_value", "the database rejected a value", ctx);
        }
        spdlog::error("request {}: {}", ctx.request_id, e.what());
    } catch (const std::exception& e) {
        spdlog::error("request {}: {}", ctx.request_id, e.what());
    } catch (...) {
        spdlog::error("request {}: unknown exception", ctx.request_id);
    }
    return error_reply(Code::Internal_Server_Error, "internal", "internal error; see the server log", ctx);
}

}  // namespace drover::api
