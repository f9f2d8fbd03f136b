#pragma once
// A job as stored (drover.jobs) and as clients see it. The state machine:
//   pending → running → succeeded | failed | (pending again: retry, lease lost)
//   pending | running → cancelled
// docs/architecture.md draws it; the CHECK constraints of the jobs table hold it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/db/result.hpp"
#include "core/json.hpp"

namespace drover {

struct Job {
    std::int64_t id = 0;
    std::string app;
    std::string kind;
    std::string queue;
    int priority = 0;
    std::string args_json;
    std::string status;
    int attempt = 0;
    int max_attempts = 0;
    std::string run_at;
    std::optional<std::int64_t> timeout_s;
    std::optional<std::string> unique_key;
    std::string created_at;
    std::optional<std::string> started_at;
    std::optional<std::string> finished_at;
    std::optional<std::string> cancel_requested_at;
    std::optional<std::int64_t> progress_percent;
    std::optional<std::string> progress_message;
    std::optional<std::string> result_json;
    std::optional<std::string> last_error;
    std::string errors_json;
    std::optional<std::int64_t> upload_id;  // the upload unpacked into inbound/ (none once it is deleted)
};

// What a client asks for; defaults already filled in from the kind.
struct NewJob {
    std::string app = "default";
    std::string kind;
    std::string args_json = "{}";
    std::string queue = "default";
    int priority = 0;
    std::optional<std::string> run_at;  // RFC 3339; none = now
    int max_attempts = 25;
    std::optional<int> timeout_s;
    std::optional<std::string> unique_key;
    std::optional<std::int64_t> upload_id;  // an upload of the same app, unpacked into inbound/
};

// Reads a full drover.jobs row (any column order) from a result.
Job job_from_row(const db::Result& result, int row);
// The client-facing JSON of a job (docs/api.md).
void write_job_json(json::Writer& writer, const Job& job);
std::string job_to_json(const Job& job);
// "2026-11-23 17:44:00.123+00" (a UTC session) → "2026-11-23T17:44:00.123Z".
std::string rfc3339(std::string_view pg_timestamp);

}  // namespace drover
