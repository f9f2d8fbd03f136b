#pragma once
// One libpq connection, owned. Not thread-safe: one Connection per thread.
// Named queries (sql/queries/<name>.sql) are prepared on first use and then
// executed by name, so the hot path parses and plans nothing.
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/params.hpp"
#include "core/db/result.hpp"
#include "core/error.hpp"

namespace drover::db {

struct Notification {
    std::string channel;
    std::string payload;
};

class Connection {
public:
    // Connects (throws DbError on failure). Every session runs in UTC with
    // DateStyle ISO and IntervalStyle postgres, whatever the environment says
    // (PGDATESTYLE, PGTZ), so timestamps come back as
    // "YYYY-MM-DD HH:MM:SS[.ffffff]+00".
    explicit Connection(const std::string& url, std::string_view application_name = "drover");

    // Runs the named query from sql/queries, preparing it on first use.
    Result query(std::string_view name, const Params& params = {});
    // Sends several named queries in one round trip (libpq pipeline mode)
    // and returns their results in order. They share one implicit
    // transaction: if one fails, the later ones are skipped and it throws.
    struct Pipelined {
        std::string_view name;
        Params params;
    };
    std::vector<Result> pipeline(const std::vector<Pipelined>& queries);

    // Runs literal SQL (several statements allowed when params is empty).
    Result exec(std::string_view sql);
    Result exec(std::string_view sql, const Params& params);

    // Notifications that arrived with earlier results or on the socket, drained.
    std::vector<Notification> take_notifications();
    // Reads what the socket has without blocking; throws DbError if the connection broke.
    void consume_input();

    int socket() const { return PQsocket(conn_.get()); }
    const std::string& url() const { return url_; }
    bool broken() const { return PQstatus(conn_.get()) != CONNECTION_OK; }
    PGconn* native() { return conn_.get(); }

private:
    Result check(PGresult* result, std::string_view query_name);
    void prepare(std::string_view name);

    std::string url_;
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
    std::set<std::string, std::less<>> prepared_;
};

// COMMIT was sent, the connection dropped before its answer, and the server
// could not be asked (or still had the transaction in progress) within the
// wait: the transaction may or may not have committed.
class CommitUnknown : public DbError {
public:
    explicit CommitUnknown(std::string message) : DbError(std::move(message), "08007", "commit", true) {}
};

// What became of transaction `txid` (txid_current() inside it), asked on new
// connections to `url` until the server answers "committed" or "aborted" or
// `wait` runs out (then CommitUnknown). Postgres keeps that answer for every
// recent transaction, restarts included (txid_status()).
bool committed(const std::string& url, std::int64_t txid, std::chrono::milliseconds wait);

// Runs fn inside BEGIN … COMMIT, like in_transaction, but a connection lost
// during COMMIT does not leave the caller guessing: the outcome is asked on a
// new connection (committed() above). Committed: fn's result is returned.
// Aborted: the original DbError is thrown (nothing happened; retrying is
// safe). Unknown: CommitUnknown. An error before COMMIT was sent means
// nothing committed and is thrown as it is.
template <typename Fn>
auto in_checked_transaction(Connection& conn, Fn&& fn, std::chrono::milliseconds wait) {
    conn.exec("BEGIN");
    std::int64_t txid = 0;
    try {
        txid = conn.query("session/txid").int64(0, 0);
    } catch (...) {
        if (!conn.broken()) {
            try {
                conn.exec("ROLLBACK");
            } catch (...) {
            }
        }
        throw;
    }
    auto result = [&] {
        try {
            return fn();
        } catch (...) {
            if (!conn.broken()) {
                try {
                    conn.exec("ROLLBACK");
                } catch (...) {
                }
            }
            throw;
        }
    }();
    try {
        conn.exec("COMMIT");
    } catch (const DbError&) {
        if (!conn.broken()) throw;  // the server answered: it did not commit
        if (!committed(conn.url(), txid, wait)) throw;
    }
    return result;
}

// Runs fn inside BEGIN … COMMIT, rolling back if it throws.
template <typename Fn>
auto in_transaction(Connection& conn, Fn&& fn) {
    conn.exec("BEGIN");
    try {
        if constexpr (std::is_void_v<decltype(fn())>) {
            fn();
            conn.exec("COMMIT");
        } else {
            auto result = fn();
            conn.exec("COMMIT");
            return result;
        }
    } catch (...) {
        if (!conn.broken()) {
            try {
                conn.exec("ROLLBACK");
            } catch (...) {
                // The original error matters more than a failed rollback.
            }
        }
        throw;
    }
}

}  // namespace drover::db
