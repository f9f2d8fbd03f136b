#pragma once
// POST /v1/jobs once parsed: the insert, made safe to retry.
//  - Its transaction's outcome is never guessed: when the connection drops
//    during COMMIT, a new connection asks Postgres whether it committed
//    (db::in_checked_transaction). Committed: the client gets its 202 and the
//    job. Aborted: 503 database_unavailable (nothing was stored; retry).
//    Still unknown after `commit_check_wait` (DROVER_COMMIT_CHECK_MS, 15 s):
//    503 commit_unknown with the job's
//    Location, so the client can look before it retries.
//  - An Idempotency-Key header (1-255 printable ASCII characters, per app,
//    kept kIdempotencyTtlS seconds) makes retries safe whatever happened:
//    the same key with the same body gets the first request's answer (its
//    status and the job as it is now, plus `Idempotent-Replayed: true`); the
//    same key with another body gets 422 idempotency_key_reused.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "api/reply.hpp"
#include "core/db/connection.hpp"
#include "core/job.hpp"

namespace drover::api {

constexpr int kIdempotencyTtlS = 24 * 3600;

// The Idempotency-Key header's value, checked (InputError when malformed).
std::optional<std::string> idempotency_key(const std::optional<std::string>& header);

Reply submit_job(db::Connection& conn, const NewJob& job, const std::optional<std::string>& idempotency_key,
                 std::string_view body, const RequestContext& ctx, std::chrono::milliseconds commit_check_wait,
                 const std::string& root = "");

}  // namespace drover::api
