#include "core/job.hpp"

namespace drover {

std::string rfc3339(std::string_view pg) {
    std::string out(pg);
    if (out.size() > 10 && out[10] == ' ') out[10] = 'T';
    if (out.ends_with("+00")) {
        out.resize(out.size() - 3);
        out += 'Z';
    }
    return out;
}

Job job_from_row(const db::Result& r, int row) {
    auto col = [&](const char* name) { return r.column(name); };
    auto opt_time = [&](const char* name) -> std::optional<std::string> {
        int c = col(name);
        if (r.is_null(row, c)) return std::nullopt;
        return rfc3339(r.text(row, c));
    };
    Job j;
    j.id = r.int64(row, col("id"));
    j.app = r.text(row, col("app"));
    j.kind = r.text(row, col("kind"));
    j.queue = r.text(row, col("queue"));
    j.priority = static_cast<int>(r.int64(row, col("priority")));
    j.args_json = r.text(row, col("args"));
    j.status = r.text(row, col("status"));
    j.attempt = static_cast<int>(r.int64(row, col("attempt")));
    j.max_attempts = static_cast<int>(r.int64(row, col("max_attempts")));
    j.run_at = rfc3339(r.text(row, col("run_at")));
    j.timeout_s = r.optional_int64(row, col("timeout_s"));
    j.unique_key = r.optional_text(row, col("unique_key"));
    j.created_at = rfc3339(r.text(row, col("created_at")));
    j.started_at = opt_time("started_at");
    j.finished_at = opt_time("finished_at");
    j.cancel_requested_at = opt_time("cancel_requested_at");
    j.progress_percent = r.optional_int64(row, col("progress_percent"));
    j.progress_message = r.optional_text(row, col("progress_message"));
    j.result_json = r.optional_text(row, col("result"));
    j.last_error = r.optional_text(row, col("last_error"));
    j.errors_json = r.text(row, col("errors"));
    j.upload_id = r.optional_int64(row, col("upload_id"));
    return j;
}

void write_job_json(json::Writer& w, const Job& j) {
    auto optional_int = [&](const std::optional<std::int64_t>& v) {
        if (v) {
            w.Int64(*v);
        } else {
            w.Null();
        }
    };
    w.StartObject();
    // Ids are opaque strings to clients, so their form can change later.
    w.Key("id");
    w.String(std::to_string(j.id));
    w.Key("kind");
    w.String(j.kind);
    w.Key("queue");
    w.String(j.queue);
    w.Key("priority");
    w.Int(j.priority);
    w.Key("args");
    json::write_raw(w, j.args_json);
    w.Key("status");
    w.String(j.status);
    w.Key("attempt");
    w.Int(j.attempt);
    w.Key("max_attempts");
    w.Int(j.max_attempts);
    w.Key("run_at");
    w.String(j.run_at);
    w.Key("timeout_s");
    optional_int(j.timeout_s);
    w.Key("unique_key");
    json::write_optional_string(w, j.unique_key);
    w.Key("created_at");
    w.String(j.created_at);
    w.Key("started_at");
    json::write_optional_string(w, j.started_at);
    w.Key("finished_at");
    json::write_optional_string(w, j.finished_at);
    w.Key("cancel_requested_at");
    json::write_optional_string(w, j.cancel_requested_at);
    w.Key("progress");
    w.StartObject();
    w.Key("percent");
    optional_int(j.progress_percent);
    w.Key("message");
    json::write_optional_string(w, j.progress_message);
    w.EndObject();
    w.Key("result");
    if (j.result_json) {
        json::write_raw(w, *j.result_json);
    } else {
        w.Null();
    }
    w.Key("last_error");
    json::write_optional_string(w, j.last_error);
    w.Key("errors");
    json::write_raw(w, j.errors_json);
    w.Key("upload_id");
    if (j.upload_id) {
        w.String(std::to_string(*j.upload_id));
    } else {
        w.Null();
    }
    w.EndObject();
}

std::string job_to_json(const Job& job) {
    rapidjson::StringBuffer buffer;
    json::Writer writer(buffer);
    write_job_json(writer, job);
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace drover
