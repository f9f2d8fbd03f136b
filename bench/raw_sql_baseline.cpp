// drover-bench-raw-sql: the floor that Drover's throughput is compared with.
//
// THREADS client threads, one libpq connection each, loop:
//   claim BATCH pending jobs (the shape of sql/queries/jobs/claim.sql:
//   UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) … RETURNING id,
//   in the order of the index jobs_claimable, always from the head: the
//   start position Drover's claim takes is Drover's own work),
//   then mark exactly those succeeded in one statement (WHERE id = ANY($1)),
// until a claim returns nothing. Each statement is its own transaction, so the
// server commits (and, with synchronous_commit=on, flushes WAL) twice per batch.
// No job is "run": this is the least client work and SQL a worker needs.
//
// Mode "minimal" (the limit, issue 12): the same loop on a table of its own,
// bench_min.queue (id, state, payload, run_at, created_at, finished_at; one
// partial index on pending ids; bench/run creates and fills it). One
// statement per round claims BATCH rows (SELECT … FOR UPDATE SKIP LOCKED) and
// marks them done: one round trip and one commit per round, each row updated
// once. It is what a SKIP LOCKED queue costs at the very least on this
// server, with nothing a job runner needs beyond it (no lease, no attempt
// count, no claim order other than id, no second update).
//
// Usage: drover-bench-raw-sql URL [THREADS=2] [BATCH=50] [drover|minimal]
// Prints one JSON object on stdout: the client's own counts, elapsed time and
// CPU time (user + system, all threads).
// Exits 1 on any database error.
#include <libpq-fe.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* kClaimSql = R"sql(
UPDATE drover.jobs AS j
SET status = 'running',
    attempt = j.attempt + 1,
    lease_owner = $1,
    lease_expires_at = now() + interval '30 seconds',
    started_at = now()
FROM (
    SELECT id
    FROM drover.jobs
    WHERE status = 'pending' AND queue = 'default' AND run_at <= now()
    ORDER BY -priority::integer, run_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) AS picked
WHERE j.id = picked.id
RETURNING j.id
)sql";

constexpr const char* kCompleteSql = R"sql(
UPDATE drover.jobs
SET status = 'succeeded',
    finished_at = now(),
    lease_owner = NULL,
    lease_expires_at = NULL
WHERE id = ANY($1::bigint[])
)sql";

// The limit: claim and done in one statement (see the top of the file).
// $1 (the owner) is unused but kept so both modes take the same parameters.
constexpr const char* kMinimalSql = R"sql(
UPDATE bench_min.queue AS q
SET state = 'done', finished_at = now()
FROM (
    SELECT id
    FROM bench_min.queue
    WHERE state = 'pending' AND run_at <= now()
    ORDER BY id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) AS c
WHERE q.id = c.id AND q.state = 'pending' AND $1::text IS NOT NULL
RETURNING q.id
)sql";

struct ThreadStats {
    long long jobs = 0;
    long long claims = 0;     // claim statements, the final empty one included
    long long completes = 0;  // complete statements
    std::string error;
};

std::atomic<bool> g_failed{false};
bool g_minimal = false;
int g_threads = 0;
// Threads connected and prepared: the clock starts when all are.
std::atomic<int> g_ready{0};
std::atomic<long long> g_start_ns{0};

long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool ok(PGresult* r, ExecStatusType want, PGconn* conn, ThreadStats& st, const char* what) {
    if (r && PQresultStatus(r) == want) return true;
    st.error = std::string(what) + ": " + (r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    while (!st.error.empty() && (st.error.back() == '\n' || st.error.back() == ' ')) st.error.pop_back();
    return false;
}

void run_client(const std::string& url, int index, int batch, ThreadStats& st) {
    PGconn* conn = PQconnectdb(url.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        st.error = std::string("connect: ") + PQerrorMessage(conn);
        g_failed = true;
        PQfinish(conn);
        return;
    }
    auto finish = [&](PGresult* r) {
        if (r) PQclear(r);
        PQfinish(conn);
        g_failed = true;
    };
    PGresult* r = PQprepare(conn, "claim", g_minimal ? kMinimalSql : kClaimSql, 0, nullptr);
    if (!ok(r, PGRES_COMMAND_OK, conn, st, "prepare claim")) return finish(r);
    PQclear(r);
    r = PQprepare(conn, "complete", kCompleteSql, 0, nullptr);
    if (!ok(r, PGRES_COMMAND_OK, conn, st, "prepare complete")) return finish(r);
    PQclear(r);

    if (g_ready.fetch_add(1) + 1 == g_threads) {
        g_start_ns = now_ns();
    }
    while (g_ready.load() < g_threads && !g_failed) std::this_thread::yield();
    const std::string owner = "bench-raw-" + std::to_string(index);
    const std::string limit = std::to_string(batch);
    std::string ids;
    while (!g_failed) {
        const char* claim_params[] = {owner.c_str(), limit.c_str()};
        r = PQexecPrepared(conn, "claim", 2, claim_params, nullptr, nullptr, 0);
        if (!ok(r, PGRES_TUPLES_OK, conn, st, "claim")) return finish(r);
        ++st.claims;
        const int rows = PQntuples(r);
        if (rows == 0) {
            PQclear(r);
            break;
        }
        if (g_minimal) {  // claimed and done in one statement
            PQclear(r);
            ++st.completes;
            st.jobs += rows;
            continue;
        }
        ids.assign("{");
        for (int i = 0; i < rows; ++i) {
            if (i) ids.push_back(',');
            ids.append(PQgetvalue(r, i, 0));
        }
        ids.push_back('}');
        PQclear(r);

        const char* complete_params[] = {ids.c_str()};
        r = PQexecPrepared(conn, "complete", 1, complete_params, nullptr, nullptr, 0);
        if (!ok(r, PGRES_COMMAND_OK, conn, st, "complete")) return finish(r);
        if (std::atoi(PQcmdTuples(r)) != rows) {
            st.error = "complete updated " + std::string(PQcmdTuples(r)) + " rows, expected " + std::to_string(rows);
            return finish(r);
        }
        PQclear(r);
        ++st.completes;
        st.jobs += rows;
    }
    PQfinish(conn);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 5) {
        std::fprintf(stderr, "usage: %s URL [THREADS=2] [BATCH=50] [drover|minimal]\n", argv[0]);
        return 2;
    }
    const std::string url = argv[1];
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const int batch = argc > 3 ? std::atoi(argv[3]) : 50;
    const std::string mode = argc > 4 ? argv[4] : "drover";
    if (mode != "drover" && mode != "minimal") {
        std::fprintf(stderr, "mode must be drover or minimal, got '%s'\n", mode.c_str());
        return 2;
    }
    g_minimal = mode == "minimal";
    g_threads = threads;
    if (threads < 1 || batch < 1) {
        std::fprintf(stderr, "THREADS and BATCH must be positive integers\n");
        return 2;
    }

    std::vector<ThreadStats> stats(threads);
    std::vector<std::thread> pool;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < threads; ++i) pool.emplace_back(run_client, std::cref(url), i, batch, std::ref(stats[i]));
    for (auto& t : pool) t.join();
    const auto end = std::chrono::steady_clock::now();
    // From the moment every connection was ready (connecting is not the queue's cost).
    const long long start_ns = g_start_ns.load();
    const double elapsed = start_ns ? static_cast<double>(now_ns() - start_ns) / 1e9
                                    : std::chrono::duration<double>(end - start).count();

    ThreadStats total;
    for (const auto& s : stats) {
        total.jobs += s.jobs;
        total.claims += s.claims;
        total.completes += s.completes;
        if (!s.error.empty()) {
            std::fprintf(stderr, "drover-bench-raw-sql: %s\n", s.error.c_str());
            total.error = s.error;
        }
    }
    if (!total.error.empty()) return 1;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::printf(
        "{\"mode\":\"%s\",\"threads\":%d,\"batch\":%d,\"jobs\":%lld,\"claim_statements\":%lld,\"complete_statements\":%lld,"
        "\"client_elapsed_s\":%.3f,\"cpu_s\":%.3f}\n",
        mode.c_str(), threads, batch, total.jobs, total.claims, total.completes, elapsed, cpu);
    return 0;
}
