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
// Mode "minimal" (the limit, issue 12): a queue of its own, bench_min.queue
// (id, state, payload, run_at, created_at, finished_at; a primary key and one
// partial index on pending ids; bench/run creates and fills it), drained the way the issue
// describes it: claim BATCH rows (state 'running', SELECT … ORDER BY id FOR
// UPDATE SKIP LOCKED) and mark the previous batch done, pipelined the way
// Drover's worker pipelines: each round sends "done(previous batch)" and
// "claim(next batch)" together with one sync, so one round trip and one
// commit per round, each row updated twice (claimed, done). It is what a
// SKIP LOCKED queue costs at the least on this server with nothing a job
// runner needs beyond it (no lease, no attempt count, no claim order other
// than id, no outcome).
//
// Mode "one_update" (a stricter floor, reported beside the limit): one
// statement per round claims BATCH rows and marks them done at once: each row
// updated once. No job runner can do this (a job must be seen running before
// its outcome is known); it shows what the second update costs.
//
// Usage: drover-bench-raw-sql URL [THREADS=2] [BATCH=50] [drover|minimal|one_update]
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

// The limit's two statements (see the top of the file). $1 (the owner) is
// unused but kept so that every mode's claim takes the same parameters.
constexpr const char* kMinimalClaimSql = R"sql(
UPDATE bench_min.queue AS q
SET state = 'running'
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

constexpr const char* kMinimalDoneSql = R"sql(
UPDATE bench_min.queue
SET state = 'done', finished_at = now()
WHERE id = ANY($1::bigint[]) AND state = 'running'
)sql";

// One update per job: claimed and done in one statement.
constexpr const char* kOneUpdateSql = R"sql(
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
enum class Mode { drover, minimal, one_update };
Mode g_mode = Mode::drover;
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

// "{1,2,3}" from the first column of a claim's rows.
void id_array(PGresult* r, std::string& ids) {
    ids.assign("{");
    for (int i = 0, rows = PQntuples(r); i < rows; ++i) {
        if (i) ids.push_back(',');
        ids.append(PQgetvalue(r, i, 0));
    }
    ids.push_back('}');
}

// One round of mode minimal: "done(previous batch)" (when there is one) and
// "claim(next batch)" in one pipeline with one sync, so one implicit
// transaction. Returns the rows claimed, or -1 on error (st.error set).
int minimal_round(PGconn* conn, const char* const claim_params[2], const std::string& done_ids, int done_rows,
                  PGresult*& claimed, ThreadStats& st) {
    auto fail = [&](const char* what) {
        st.error = std::string(what) + ": " + PQerrorMessage(conn);
        return -1;
    };
    if (!PQenterPipelineMode(conn)) return fail("enter pipeline");
    const char* done_params[] = {done_ids.c_str()};
    if (done_rows > 0 && !PQsendQueryPrepared(conn, "complete", 1, done_params, nullptr, nullptr, 0))
        return fail("send done");
    if (!PQsendQueryPrepared(conn, "claim", 2, claim_params, nullptr, nullptr, 0)) return fail("send claim");
    if (!PQpipelineSync(conn)) return fail("sync");
    if (done_rows > 0) {
        PGresult* r = PQgetResult(conn);
        if (!ok(r, PGRES_COMMAND_OK, conn, st, "done")) return PQclear(r), -1;
        const bool all = std::atoi(PQcmdTuples(r)) == done_rows;
        if (!all) st.error = "done updated " + std::string(PQcmdTuples(r)) + " rows, expected " + std::to_string(done_rows);
        PQclear(r);
        if (!all) return -1;
        while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
    }
    claimed = PQgetResult(conn);
    if (!ok(claimed, PGRES_TUPLES_OK, conn, st, "claim")) return PQclear(claimed), claimed = nullptr, -1;
    while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
    PGresult* sync = PQgetResult(conn);
    const bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    if (sync) PQclear(sync);
    if (!synced || !PQexitPipelineMode(conn)) return PQclear(claimed), claimed = nullptr, fail("pipeline sync");
    return PQntuples(claimed);
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
    const char* claim_sql = g_mode == Mode::drover ? kClaimSql : g_mode == Mode::minimal ? kMinimalClaimSql : kOneUpdateSql;
    PGresult* r = PQprepare(conn, "claim", claim_sql, 0, nullptr);
    if (!ok(r, PGRES_COMMAND_OK, conn, st, "prepare claim")) return finish(r);
    PQclear(r);
    r = PQprepare(conn, "complete", g_mode == Mode::minimal ? kMinimalDoneSql : kCompleteSql, 0, nullptr);
    if (!ok(r, PGRES_COMMAND_OK, conn, st, "prepare complete")) return finish(r);
    PQclear(r);

    if (g_ready.fetch_add(1) + 1 == g_threads) {
        g_start_ns = now_ns();
    }
    while (g_ready.load() < g_threads && !g_failed) std::this_thread::yield();
    const std::string owner = "bench-raw-" + std::to_string(index);
    const std::string limit = std::to_string(batch);
    const char* claim_params[] = {owner.c_str(), limit.c_str()};
    std::string ids;
    if (g_mode == Mode::minimal) {
        int done_rows = 0;  // claimed in the previous round, marked done in this one
        while (!g_failed) {
            PGresult* claimed = nullptr;
            const int rows = minimal_round(conn, claim_params, ids, done_rows, claimed, st);
            if (rows < 0) return finish(nullptr);
            ++st.claims;
            if (done_rows > 0) ++st.completes;
            st.jobs += done_rows;
            done_rows = rows;
            if (rows > 0) id_array(claimed, ids);
            PQclear(claimed);
            if (rows == 0) break;
        }
        PQfinish(conn);
        return;
    }
    while (!g_failed) {
        r = PQexecPrepared(conn, "claim", 2, claim_params, nullptr, nullptr, 0);
        if (!ok(r, PGRES_TUPLES_OK, conn, st, "claim")) return finish(r);
        ++st.claims;
        const int rows = PQntuples(r);
        if (rows == 0) {
            PQclear(r);
            break;
        }
        if (g_mode == Mode::one_update) {  // claimed and done in one statement
            PQclear(r);
            ++st.completes;
            st.jobs += rows;
            continue;
        }
        id_array(r, ids);
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
        std::fprintf(stderr, "usage: %s URL [THREADS=2] [BATCH=50] [drover|minimal|one_update]\n", argv[0]);
        return 2;
    }
    const std::string url = argv[1];
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const int batch = argc > 3 ? std::atoi(argv[3]) : 50;
    const std::string mode = argc > 4 ? argv[4] : "drover";
    if (mode != "drover" && mode != "minimal" && mode != "one_update") {
        std::fprintf(stderr, "mode must be drover, minimal or one_update, got '%s'\n", mode.c_str());
        return 2;
    }
    g_mode = mode == "drover" ? Mode::drover : mode == "minimal" ? Mode::minimal : Mode::one_update;
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
