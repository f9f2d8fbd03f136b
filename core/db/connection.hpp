#pragma once
// One libpq connection, owned. Not thread-safe: one Connection per thread.
// Named queries (sql/queries/<name>.sql) are prepared on first use and then
// executed by name, so the hot path parses and plans nothing.
#include <libpq-fe.h>

#include <memory>
#include <set>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/params.hpp"
#include "core/db/result.hpp"

namespace drover::db {

struct Notification {
    std::string channel;
    std::string payload;
};

class Connection {
public:
    // Connects (throws DbError on failure). Every session runs in UTC, so
    // timestamps come back as "YYYY-MM-DD HH:MM:SS[.ffffff]+00".
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
    bool broken() const { return PQstatus(conn_.get()) != CONNECTION_OK; }
    PGconn* native() { return conn_.get(); }

private:
    Result check(PGresult* result, std::string_view query_name);
    void prepare(std::string_view name);

    std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
    std::set<std::string, std::less<>> prepared_;
};

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
