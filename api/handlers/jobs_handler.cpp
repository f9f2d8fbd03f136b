#include "api/handlers/jobs_handler.hpp"

#include <charconv>
#include <regex>
#include <set>

#include "api/http/path_params.hpp"
#include "api/http_error.hpp"
#include "api/job_request.hpp"
#include "api/job_submission.hpp"
#include "core/error.hpp"
#include "core/store/api_job_store.hpp"
#include "core/store/job_store.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

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

InputError invalid(std::string code, std::string message, std::string field) {
    return InputError(InputError::Kind::invalid, std::move(code), std::move(message), std::move(field));
}

// Listing cursors are opaque to clients: "j" and the last id in hex.
std::string make_cursor(std::int64_t id) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, id, 16);
    return "j" + std::string(buf, end);
}

std::int64_t read_cursor(const std::string& cursor) {
    std::int64_t id = 0;
    if (cursor.size() > 1 && cursor[0] == 'j') {
        auto [ptr, ec] = std::from_chars(cursor.data() + 1, cursor.data() + cursor.size(), id, 16);
        if (ec == std::errc() && ptr == cursor.data() + cursor.size() && id > 0) return id;
    }
    throw invalid("invalid_value", "\"cursor\" must be a next_cursor this API returned", "cursor");
}

std::optional<std::string> name_param(const Pistache::Rest::Request& request, const char* name) {
    auto value = request.query().get(name);
    if (!value) return std::nullopt;
    static const std::regex pattern("[A-Za-z0-9_.:-]{1,128}");
    if (!std::regex_match(*value, pattern)) {
        throw invalid("invalid_value", std::string("\"") + name + "\" must be 1-128 of A-Z a-z 0-9 _ . : -", name);
    }
    return *value;
}

std::optional<std::string> time_param(const Pistache::Rest::Request& request, const char* name) {
    auto value = request.query().get(name);
    if (!value) return std::nullopt;
    static const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))");
    if (!std::regex_match(*value, rfc3339)) {
        throw invalid("invalid_value",
                      std::string("\"") + name + "\" must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z", name);
    }
    return *value;
}

std::vector<std::string> status_param(const Pistache::Rest::Request& request) {
    std::vector<std::string> out;
    auto value = request.query().get("status");
    if (!value) return out;
    std::string_view rest = *value;
    for (;;) {
        auto comma = rest.find(',');
        std::string one(rest.substr(0, comma));
        if (one != "pending" && one != "running" && one != "succeeded" && one != "failed" && one != "cancelled") {
            throw invalid("invalid_value",
                          "\"status\" must be pending, running, succeeded, failed or cancelled (or several, "
                          "comma-separated)",
                          "status");
        }
        out.push_back(std::move(one));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return out;
}

// An error of one job of a batch, named by its place: jobs[17].args.ms.
InputError in_batch(const InputError& e, std::size_t index) {
    std::string at = "jobs[" + std::to_string(index) + "]";
    return InputError(e.kind(), e.code(), at + ": " + e.what(), e.field().empty() ? at : at + "." + e.field());
}

constexpr std::size_t max_batch = 10000;

}  // namespace

void JobsHandler::create(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter& response) {
    // Parsing and validation are CPU-only: they stay on the reactor thread.
    NewJob job = parse_new_job(request.body(), kinds_, ctx.app);
    std::optional<std::string> header;
    if (auto raw = request.headers().tryGetRaw("Idempotency-Key")) header = raw->value();
    auto key = idempotency_key(header);
    db_.run(std::move(response), ctx,
            [job = std::move(job), key = std::move(key), body = request.body(), ctx, wait = db_.commit_check_wait(),
             root = root_path_](db::Connection& conn) { return submit_job(conn, job, key, body, ctx, wait, root); });
}

void JobsHandler::get(RequestContext ctx, const Pistache::Rest::Request& request,
                      Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "job");  // before the response is handed on: it may throw
    auto wait_s = query_number(request, "wait", 0, 0, 60);
    DbExecutor::Work work = [id, app = ctx.app](db::Connection& conn) {
        auto job = JobStore(conn).get(id, app);
        if (!job) throw NotFound("no such job");
        return Reply{Code::Ok, job_to_json(*job), {}};
    };
    if (wait_s > 0 && long_poll_) {
        long_poll_->park(id, std::nullopt, std::chrono::steady_clock::now() + std::chrono::seconds(wait_s),
                         std::move(response), std::move(ctx), std::move(work));
        return;
    }
    db_.run(std::move(response), ctx, std::move(work));
}

void JobsHandler::cancel(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "job");
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
    auto id = path_id(request, "job");
    auto after = query_number(request, "after", 0, 0, INT64_MAX);
    auto limit = query_number(request, "limit", 1000, 1, 5000);
    auto wait_s = query_number(request, "wait", 0, 0, 60);
    DbExecutor::Work work = [id, after, limit, app = ctx.app](db::Connection& conn) {
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
    };
    if (wait_s > 0 && long_poll_) {
        long_poll_->park(id, after, std::chrono::steady_clock::now() + std::chrono::seconds(wait_s),
                         std::move(response), std::move(ctx), std::move(work));
        return;
    }
    db_.run(std::move(response), ctx, std::move(work));
}

void JobsHandler::list(RequestContext ctx, const Pistache::Rest::Request& request,
                       Pistache::Http::ResponseWriter& response) {
    JobFilter filter;
    if (auto cursor = request.query().get("cursor")) filter.before_id = read_cursor(*cursor);
    filter.statuses = status_param(request);
    filter.kind = name_param(request, "kind");
    filter.queue = name_param(request, "queue");
    filter.created_after = time_param(request, "created_after");
    filter.created_before = time_param(request, "created_before");
    filter.limit = static_cast<int>(query_number(request, "limit", 50, 1, 500));
    for (const auto& name : request.query().parameters()) {
        static const std::set<std::string> known = {"cursor", "status", "kind", "queue",
                                                    "created_after", "created_before", "limit"};
        if (!known.contains(name)) throw invalid("unknown_field", "unknown query parameter \"" + name + "\"", name);
    }
    db_.run(std::move(response), ctx, [filter, app = ctx.app](db::Connection& conn) {
        std::vector<Job> jobs;
        try {
            jobs = ApiJobStore(conn).list(app, filter);
        } catch (const DbError& e) {
            // 22008/22009: the right shape, but no real instant (30 February, +99:00).
            if (e.sqlstate() == "22007" || e.sqlstate() == "22008" || e.sqlstate() == "22009") {
                throw invalid("invalid_value", "\"created_after\" or \"created_before\" is not a valid time",
                              filter.created_after ? "created_after" : "created_before");
            }
            throw;
        }
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("jobs");
        w.StartArray();
        for (const auto& j : jobs) write_job_json(w, j);
        w.EndArray();
        // A full page may have a next one; a short page is the last.
        w.Key("next_cursor");
        if (static_cast<int>(jobs.size()) == filter.limit) {
            w.String(make_cursor(jobs.back().id));
        } else {
            w.Null();
        }
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

void JobsHandler::retry(RequestContext ctx, const Pistache::Rest::Request& request,
                        Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "job");
    db_.run(std::move(response), ctx, [id, ctx](db::Connection& conn) {
        std::optional<Job> job;
        try {
            job = ApiJobStore(conn).retry(id, ctx.app);
        } catch (const DbError& e) {
            if (e.sqlstate() != "23505") throw;
            return error_reply(Code::Conflict, "unique_key_taken",
                               "an unfinished job with the same unique_key exists; it cannot run twice at once", ctx);
        }
        if (job) return Reply{Code::Ok, job_to_json(*job), {}};
        auto current = JobStore(conn).get(id, ctx.app);
        if (!current) throw NotFound("no such job");
        return error_reply(Code::Conflict, "not_retryable",
                           "only a failed or cancelled job can be retried; this one is " + current->status, ctx);
    });
}

void JobsHandler::remove(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "job");
    db_.run(std::move(response), ctx, [id, ctx](db::Connection& conn) {
        if (ApiJobStore(conn).delete_finished(id, ctx.app)) return Reply{Code::No_Content, "", {}};
        auto current = JobStore(conn).get(id, ctx.app);
        if (!current) throw NotFound("no such job");
        return error_reply(Code::Conflict, "unfinished",
                           "only a finished job can be deleted; this one is " + current->status + " (cancel it first)",
                           ctx);
    });
}

void JobsHandler::create_batch(RequestContext ctx, const Pistache::Rest::Request& request,
                               Pistache::Http::ResponseWriter& response) {
    auto doc = json::parse(request.body());
    if (!doc.IsObject()) throw invalid("wrong_type", "the body must be a JSON object", "");
    for (auto& m : doc.GetObject()) {
        if (json::view(m.name) != "jobs") {
            throw invalid("unknown_field", "unknown field \"" + std::string(json::view(m.name)) + "\"",
                          std::string(json::view(m.name)));
        }
    }
    if (!doc.HasMember("jobs")) throw invalid("missing_field", "\"jobs\" is required", "jobs");
    const auto& list = doc["jobs"];
    if (!list.IsArray()) throw invalid("wrong_type", "\"jobs\" must be an array", "jobs");
    if (list.Empty() || list.Size() > max_batch) {
        throw invalid("out_of_range", "\"jobs\" must hold 1 to " + std::to_string(max_batch) + " jobs", "jobs");
    }
    // Each job's args from the text as sent (numbers keep every digit; a
    // duplicate key inside is refused), as for POST /v1/jobs.
    auto texts = json::array_elements(json::member_text(request.body(), "jobs").value_or("[]"));
    if (texts.size() != list.Size()) throw invalid("malformed_json", "\"jobs\" could not be read", "jobs");
    std::vector<NewJob> jobs;
    jobs.reserve(list.Size());
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
        try {
            jobs.push_back(parse_new_job(list[i], kinds_, ctx.app, json::member_text(texts[i], "args")));
        } catch (const InputError& e) {
            throw in_batch(e, i);
        }
    }
    db_.run(std::move(response), ctx, [jobs = std::move(jobs), ctx](db::Connection& conn) {
        std::vector<std::int64_t> ids;
        try {
            // The jobs and their uploads in one transaction: an upload that is
            // unknown or another app's refuses the whole batch.
            ids = db::in_transaction(conn, [&] {
                auto inserted = ApiJobStore(conn).insert_batch(jobs);
                if (auto bad = ApiJobStore(conn).attach_uploads(inserted, jobs)) {
                    throw in_batch(InputError(InputError::Kind::invalid, "unknown_upload",
                                              "\"upload_id\" names no upload of this app; nothing was inserted",
                                              "upload_id"),
                                   *bad);
                }
                return inserted;
            });
        } catch (const DbError& e) {
            if (e.sqlstate() == "23505") {
                return error_reply(Code::Conflict, "unique_key_taken",
                                   "a job's unique_key matches an unfinished job (or another job of the batch); "
                                   "nothing was inserted",
                                   ctx);
            }
            if (e.sqlstate() == "22007" || e.sqlstate() == "22008" || e.sqlstate() == "22009") {
                throw invalid("invalid_value", "a job's \"run_at\" is not a valid time; nothing was inserted", "jobs");
            }
            throw;
        }
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("ids");
        w.StartArray();
        for (auto id : ids) w.String(std::to_string(id));
        w.EndArray();
        w.Key("count");
        w.Uint64(ids.size());
        w.EndObject();
        return Reply{Code::Accepted, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

void JobsHandler::queues(RequestContext ctx, const Pistache::Rest::Request&,
                         Pistache::Http::ResponseWriter& response) {
    db_.run(std::move(response), ctx, [app = ctx.app](db::Connection& conn) {
        auto stats = ApiJobStore(conn).queue_stats(app);
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("queues");
        w.StartArray();
        for (const auto& q : stats) {
            w.StartObject();
            w.Key("queue");
            w.String(q.queue);
            w.Key("counts");
            w.StartObject();
            for (auto [name, n] : {std::pair{"pending", q.pending}, std::pair{"running", q.running},
                                   std::pair{"succeeded", q.succeeded}, std::pair{"failed", q.failed},
                                   std::pair{"cancelled", q.cancelled}}) {
                w.Key(name);
                w.Int64(n);
            }
            w.EndObject();
            w.Key("oldest_pending_age_s");
            if (q.oldest_pending_age_s) {
                w.Double(*q.oldest_pending_age_s);
            } else {
                w.Null();
            }
            w.Key("concurrency");
            if (q.concurrency) {
                w.Int64(*q.concurrency);
            } else {
                w.Null();
            }
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

}  // namespace drover::api
