#include "core/db/connection.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "core/db/embedded_sql.hpp"
#include "core/db/statement_mode.hpp"
#include "core/error.hpp"

namespace drover::db {
namespace {

std::string trimmed(const char* message) {
    std::string s = message ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// Set once at start (main), read by every connection afterwards.
std::atomic<bool> prepared_statements{true};

}  // namespace

void use_prepared_statements(bool on) { prepared_statements = on; }
bool prepared_statements_on() { return prepared_statements; }

void configure_statement_mode(const Config& config) {
    const auto& v = config.str("db_prepared_statements");
    if (v != "on" && v != "off") {
        throw ConfigError("DROVER_DB_PREPARED_STATEMENTS must be on or off, not '" + v + "'");
    }
    use_prepared_statements(v == "on");
}

namespace {

std::string_view query_text(std::string_view name) {
    for (const auto& q : sql::embedded_queries()) {
        if (q.name == name) return q.text;
    }
    throw Error("no query named " + std::string(name) + " in sql/queries");
}

}  // namespace

Connection::Connection(const std::string& url, std::string_view application_name)
    : url_(url), conn_(nullptr, &PQfinish) {
    std::string app(application_name);
    // Keepalives make a dead server or network show up as an error instead of a hang.
    const char* keys[] = {"dbname", "application_name", "connect_timeout", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", nullptr};
    const char* values[] = {url.c_str(), app.c_str(), "5", "10", "5", "3", nullptr};
    conn_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
        throw DbError(trimmed(conn_ ? PQerrorMessage(conn_.get()) : "out of memory"), "08001",
                      "connect", true);
    }
    // Timestamps and intervals are parsed and printed by code that expects
    // one format: a PGDATESTYLE, PGTZ or a role's settings in the caller's
    // environment must not change them (PGDATESTYLE='SQL, DMY' once made the
    // API answer "run_at":"02/01/2030T03:04:05 UTC").
    exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'");
}

Result Connection::check(PGresult* raw, std::string_view query_name) {
    Result result(raw);
    auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
        return result;
    }
    const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
    std::string message = trimmed(raw ? PQresultErrorMessage(raw) : PQerrorMessage(conn_.get()));
    if (message.empty()) message = trimmed(PQerrorMessage(conn_.get()));
    throw DbError(message, state ? state : "", std::string(query_name), broken());
}

void Connection::prepare(std::string_view name) {
    if (!prepared_statements || prepared_.contains(name)) return;
    std::string statement(name);
    std::string text(query_text(name));
    check(PQprepare(conn_.get(), statement.c_str(), text.c_str(), 0, nullptr), name);
    prepared_.insert(statement);
}

std::vector<Result> Connection::pipeline(const std::vector<Pipelined>& queries) {
    for (const auto& q : queries) prepare(q.name);
    PGconn* c = conn_.get();
    auto lost = [&](const char* what) {
        return DbError(trimmed(PQerrorMessage(c)), "08006", std::string("pipeline: ") + what, true);
    };
    if (!PQenterPipelineMode(c)) throw lost("enter");
    for (const auto& q : queries) {
        std::string statement(q.name);
        auto pointers = q.params.pointers();
        bool sent = prepared_statements
                        ? PQsendQueryPrepared(c, statement.c_str(), q.params.size(), pointers.data(), nullptr, nullptr, 0)
                        : PQsendQueryParams(c, std::string(query_text(q.name)).c_str(), q.params.size(), nullptr,
                                            pointers.data(), nullptr, nullptr, 0);
        if (!sent) {
            throw lost("send");
        }
    }
    if (!PQpipelineSync(c)) throw lost("sync");
    std::vector<Result> results;
    std::optional<DbError> failure;
    // Each query yields its result then a NULL; the sync yields PGRES_PIPELINE_SYNC.
    for (std::size_t i = 0; i < queries.size(); ++i) {
        PGresult* r = PQgetResult(c);
        if (!r) throw lost("read");
        auto status = PQresultStatus(r);
        if (status == PGRES_PIPELINE_ABORTED) {
            PQclear(r);
        } else {
            try {
                results.push_back(check(r, queries[i].name));
            } catch (const DbError& e) {
                if (!failure) failure = e;
            }
        }
        while (PGresult* extra = PQgetResult(c)) PQclear(extra);
    }
    PGresult* sync = PQgetResult(c);
    if (!sync) throw lost("read sync");
    PQclear(sync);
    if (!PQexitPipelineMode(c)) throw lost("exit");
    if (failure) throw *failure;
    return results;
}

Result Connection::query(std::string_view name, const Params& params) {
    std::string statement(name);
    prepare(name);
    auto pointers = params.pointers();
    if (!prepared_statements) {
        std::string text(query_text(name));
        return check(PQexecParams(conn_.get(), text.c_str(), params.size(), nullptr, pointers.data(), nullptr, nullptr, 0),
                     name);
    }
    return check(PQexecPrepared(conn_.get(), statement.c_str(), params.size(), pointers.data(),
                                nullptr, nullptr, 0),
                 name);
}

Result Connection::exec(std::string_view sql) {
    std::string text(sql);
    return check(PQexec(conn_.get(), text.c_str()), "");
}

Result Connection::exec(std::string_view sql, const Params& params) {
    std::string text(sql);
    auto pointers = params.pointers();
    return check(PQexecParams(conn_.get(), text.c_str(), params.size(), nullptr, pointers.data(),
                              nullptr, nullptr, 0),
                 "");
}

void Connection::consume_input() {
    if (PQconsumeInput(conn_.get()) == 0) {
        throw DbError(trimmed(PQerrorMessage(conn_.get())), "08006", "consume_input", true);
    }
}

std::vector<Notification> Connection::take_notifications() {
    std::vector<Notification> out;
    while (PGnotify* n = PQnotifies(conn_.get())) {
        out.push_back({n->relname, n->extra ? n->extra : ""});
        PQfreemem(n);
    }
    return out;
}

bool committed(const std::string& url, std::int64_t txid, std::chrono::milliseconds wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    auto pause = std::chrono::milliseconds(100);
    std::string last = "no answer";
    for (;;) {
        try {
            Connection check(url, "drover-commit-check");
            auto r = check.query("session/txid_status", Params().add(txid));
            std::string status = r.is_null(0, 0) ? "" : std::string(r.text(0, 0));
            if (status == "committed") return true;
            if (status == "aborted") return false;
            last = status.empty() ? "too old to tell" : status;  // "in progress": COMMIT still running
            if (status.empty()) break;
        } catch (const DbError& e) {
            last = e.what();
        }
        if (std::chrono::steady_clock::now() + pause > deadline) break;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    }
    throw CommitUnknown("the connection was lost during COMMIT of transaction " + std::to_string(txid) +
                        " and the database could not tell whether it committed (" + last + ")");
}

}  // namespace drover::db
