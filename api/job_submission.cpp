#include "api/job_submission.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/http_error.hpp"
#include "core/error.hpp"
#include "core/store/job_store.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

Reply job_reply(Code code, const Job& job, const std::string& root) {
    Reply reply{code, job_to_json(job), {}};
    reply.headers.emplace_back("Location", root + "/v1/jobs/" + std::to_string(job.id));
    return reply;
}

// Inserts the job; a run_at of the right shape that is no real instant is the
// caller's error (22007/22008/22009: 30 February, +99:00).
// A job that names an upload is attached to it in the same transaction, so
// no worker can claim it without its upload; an upload that does not exist or
// is another app's refuses the job (and nothing is inserted).
JobStore::Inserted insert(db::Connection& conn, const NewJob& job) {
    try {
        auto inserted = JobStore(conn).insert(job);
        if (job.upload_id && inserted.created &&
            conn.query("uploads/attach_to_job", db::Params().add(inserted.job.id).add(*job.upload_id)).empty()) {
            throw InputError(InputError::Kind::invalid, "unknown_upload", "\"upload_id\" names no upload of this app",
                             "upload_id");
        }
        if (job.upload_id && inserted.created) inserted.job.upload_id = job.upload_id;
        return inserted;
    } catch (const DbError& e) {
        if (e.sqlstate() == "22007" || e.sqlstate() == "22008" || e.sqlstate() == "22009") {
            throw InputError(InputError::Kind::invalid, "invalid_value",
                             "\"run_at\" is not a valid time: " + job.run_at.value_or(""), "run_at");
        }
        throw;
    }
}

}  // namespace

std::optional<std::string> idempotency_key(const std::optional<std::string>& header) {
    if (!header) return std::nullopt;
    const std::string& key = *header;
    bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
    if (key.empty() || key.size() > 255 || !printable) {
        throw InputError(InputError::Kind::invalid, "invalid_idempotency_key",
                         "the Idempotency-Key header must be 1-255 printable ASCII characters without spaces",
                         "Idempotency-Key");
    }
    return key;
}

Reply submit_job(db::Connection& conn, const NewJob& job, const std::optional<std::string>& key,
                 std::string_view body, const RequestContext& ctx, std::chrono::milliseconds commit_check_wait,
                 const std::string& root) {
    std::optional<std::int64_t> job_id;  // known once inserted, even if COMMIT's answer is lost
    try {
        return db::in_checked_transaction(
            conn,
            [&]() -> Reply {
                if (key) {
                    auto params = db::Params().add(job.app).add(*key);
                    conn.query("idempotency/forget_expired", params);
                    auto claimed = conn.query("idempotency/claim", db::Params()
                                                                       .add(job.app)
                                                                       .add(*key)
                                                                       .add(body)
                                                                       .add(kIdempotencyTtlS));
                    if (claimed.rows() == 0) {
                        auto earlier = conn.query("idempotency/get", db::Params().add(job.app).add(*key).add(body));
                        if (earlier.rows() == 0) {
                            // Expired and forgotten by a concurrent request in between: rare; say so.
                            throw DbError("idempotency key vanished", "40001", "idempotency/get", false);
                        }
                        if (!earlier.boolean(0, earlier.column("same_request"))) {
                            throw InputError(InputError::Kind::invalid, "idempotency_key_reused",
                                             "this Idempotency-Key was used with a different request body; use a "
                                             "new key for a new request",
                                             "Idempotency-Key");
                        }
                        auto id = earlier.optional_int64(0, earlier.column("job_id"));
                        auto status = earlier.optional_int64(0, earlier.column("status_code"));
                        auto found = id ? JobStore(conn).get(*id, job.app) : std::nullopt;
                        if (!found || !status) throw NotFound("the job of this Idempotency-Key no longer exists");
                        auto reply = job_reply(static_cast<Code>(*status), *found, root);
                        reply.headers.emplace_back("Idempotent-Replayed", "true");
                        return reply;
                    }
                }
                auto inserted = insert(conn, job);
                job_id = inserted.job.id;
                Code code = inserted.created ? Code::Accepted : Code::Ok;
                if (key) {
                    conn.query("idempotency/record", db::Params()
                                                         .add(job.app)
                                                         .add(*key)
                                                         .add(inserted.job.id)
                                                         .add(static_cast<int>(code)));
                }
                return job_reply(code, inserted.job, root);
            },
            commit_check_wait);
    } catch (const db::CommitUnknown& e) {
        spdlog::warn("request {}: {}", ctx.request_id, e.what());
        auto reply = error_reply(Code::Service_Unavailable, "commit_unknown",
                                 "the database connection was lost while the job was being committed, and the "
                                 "database could not yet tell whether it was: GET the Location to see whether it "
                                 "exists, or retry with the same Idempotency-Key",
                                 ctx);
        if (job_id) reply.headers.emplace_back("Location", root + "/v1/jobs/" + std::to_string(*job_id));
        return reply;
    }
}

}  // namespace drover::api
