// drover-bench-latency: the client side of latency_enqueue_to_start.
//
// Two modes, both sending one small transaction at a time at a fixed rate
// (no pipelining, no batching: an application enqueueing one job per request):
//
//   enqueue URL COUNT RATE WARMUP OUT
//     one connection; WARMUP + COUNT times `SELECT id FROM drover.enqueue('noop')`
//     (its own transaction: one INSERT, one durable commit, and Drover's
//     statement trigger's NOTIFY). Writes one row per job to OUT:
//       seq  warmup  job_id  send_us  commit_us
//     send_us: just before the statement is sent; commit_us: just after its
//     result (hence the commit) came back. Both CLOCK_REALTIME, µs since the
//     epoch: the clock PostgreSQL's now() reads on the same machine, so they
//     compare with drover.jobs.started_at / created_at.
//
//   notify URL COUNT RATE WARMUP OUT
//     the floor: the raw LISTEN/NOTIFY wake-up, no Drover code. Connection A
//     LISTENs on bench_probe (in its own thread, poll() on its socket);
//     connection B sends, WARMUP + COUNT times, one statement that inserts a
//     row into bench.notify_probe and pg_notify()s its sequence number in the
//     same transaction (one durable commit). On each notification A records
//     when it arrived (recv_us), then runs `SELECT now()` on its connection:
//     the DB timestamp of a transaction the woken listener starts at once
//     (stamp_us), i.e. what a claim's started_at would be with no work
//     between wake-up and claim. Writes to OUT:
//       seq  warmup  created_us  send_us  commit_us  recv_us  stamp_us
//     created_us: the insert's now() (as drover.jobs.created_at).
//
// The table bench.notify_probe (seq int, created_at timestamptz DEFAULT now())
// must exist. Sends are scheduled at start + i / RATE (CLOCK_MONOTONIC,
// absolute sleeps); a send that is late goes at once, without catching up in
// a burst beyond that. Prints one JSON object on stdout: counts, elapsed
// time, sends that left more than 1 ms late, CPU seconds (user + system).
// Exits 1 on any database error or, in notify mode, if a notification is
// missing 5 s after the last send.
#include <libpq-fe.h>
#include <poll.h>
#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

long long realtime_us() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000LL + ts.tv_nsec / 1000;
}

timespec monotonic_now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

timespec add_ns(timespec t, long long ns) {
    long long total = t.tv_nsec + ns;
    t.tv_sec += static_cast<time_t>(total / 1000000000LL);
    t.tv_nsec = static_cast<long>(total % 1000000000LL);
    return t;
}

long long diff_ns(const timespec& a, const timespec& b) {  // a - b
    return (static_cast<long long>(a.tv_sec) - b.tv_sec) * 1000000000LL + (a.tv_nsec - b.tv_nsec);
}

[[noreturn]] void die(const std::string& what, PGconn* conn, PGresult* r = nullptr) {
    std::string msg = r ? PQresultErrorMessage(r) : (conn ? PQerrorMessage(conn) : "");
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    std::fprintf(stderr, "drover-bench-latency: %s: %s\n", what.c_str(), msg.c_str());
    std::exit(1);
}

PGconn* connect(const std::string& url, const char* app) {
    const char* keys[] = {"dbname", "application_name", nullptr};
    const char* values[] = {url.c_str(), app, nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) die("connect", conn);
    return conn;
}

void exec_ok(PGconn* conn, const char* sql) {
    PGresult* r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) die(sql, conn, r);
    PQclear(r);
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Paces the sends: wait(i) returns at start + i / rate, or at once if that is
// past; counts the sends that left more than 1 ms after their slot.
struct Pacer {
    timespec start;
    long long period_ns;
    long long late = 0;
    explicit Pacer(int rate) : start(add_ns(monotonic_now(), 1000000)), period_ns(1000000000LL / rate) {}
    void wait(long long i) {
        timespec due = add_ns(start, i * period_ns);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, nullptr) == EINTR) {
        }
        if (diff_ns(monotonic_now(), due) > 1000000) ++late;
    }
};

int run_enqueue(const std::string& url, int count, int rate, int warmup, const char* out_path) {
    PGconn* conn = connect(url, "drover-bench-enqueue");
    PGresult* r = PQprepare(conn, "enqueue", "SELECT id FROM drover.enqueue('noop')", 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die("prepare", conn, r);
    PQclear(r);

    const int total = warmup + count;
    struct Row {
        long long id, send_us, commit_us;
    };
    std::vector<Row> rows(total);
    const double cpu0 = cpu_seconds();
    Pacer pacer(rate);
    const timespec t0 = monotonic_now();
    for (int i = 0; i < total; ++i) {
        pacer.wait(i);
        const long long send = realtime_us();
        r = PQexecPrepared(conn, "enqueue", 0, nullptr, nullptr, nullptr, 0);
        const long long commit = realtime_us();
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) die("enqueue", conn, r);
        rows[i] = {std::atoll(PQgetvalue(r, 0, 0)), send, commit};
        PQclear(r);
    }
    const double elapsed = static_cast<double>(diff_ns(monotonic_now(), t0)) / 1e9;
    PQfinish(conn);

    FILE* out = std::fopen(out_path, "w");
    if (!out) {
        std::fprintf(stderr, "drover-bench-latency: %s: %s\n", out_path, std::strerror(errno));
        return 1;
    }
    for (int i = 0; i < total; ++i) {
        std::fprintf(out, "%d\t%s\t%lld\t%lld\t%lld\n", i, i < warmup ? "t" : "f", rows[i].id, rows[i].send_us,
                     rows[i].commit_us);
    }
    std::fclose(out);
    std::printf("{\"jobs\":%d,\"warmup\":%d,\"rate\":%d,\"client_elapsed_s\":%.3f,\"late_sends\":%lld,\"cpu_s\":%.3f}\n",
                count, warmup, rate, elapsed, pacer.late, cpu_seconds() - cpu0);
    return 0;
}

int run_notify(const std::string& url, int count, int rate, int warmup, const char* out_path) {
    const int total = warmup + count;
    std::vector<long long> created(total, 0), send(total, 0), commit(total, 0);
    std::vector<long long> recv(total, 0), stamp(total, 0);
    std::atomic<int> received{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> listener_failed{false};
    std::string listener_error;  // written by the listener before it sets listener_failed

    PGconn* listener = connect(url, "drover-bench-listen");
    exec_ok(listener, "LISTEN bench_probe");
    PGconn* sender = connect(url, "drover-bench-notify");
    PGresult* r = PQprepare(sender, "probe",
                            "WITH i AS (INSERT INTO bench.notify_probe (seq) VALUES ($1::int) RETURNING seq, created_at) "
                            "SELECT (extract(epoch FROM created_at) * 1000000)::bigint, pg_notify('bench_probe', seq::text) "
                            "FROM i",
                            0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die("prepare", sender, r);
    PQclear(r);

    // The listener: poll, read, drain every buffered notification (also those
    // that came in with the stamp query's result) before polling again.
    std::thread listen([&] {
        std::vector<int> pending;
        auto drain = [&] {
            while (PGnotify* n = PQnotifies(listener)) {
                const long long at = realtime_us();
                const int seq = std::atoi(n->extra);
                PQfreemem(n);
                if (seq >= 0 && seq < total && recv[seq] == 0) {
                    recv[seq] = at;
                    pending.push_back(seq);
                }
            }
        };
        while (!stop) {
            if (!PQconsumeInput(listener)) {
                listener_error = PQerrorMessage(listener);
                listener_failed = true;
                return;
            }
            drain();
            if (!pending.empty()) {
                PGresult* s = PQexec(listener, "SELECT (extract(epoch FROM now()) * 1000000)::bigint");
                if (PQresultStatus(s) != PGRES_TUPLES_OK) {
                    listener_error = PQresultErrorMessage(s);
                    listener_failed = true;
                    PQclear(s);
                    return;
                }
                const long long at = std::atoll(PQgetvalue(s, 0, 0));
                PQclear(s);
                for (int seq : pending) stamp[seq] = at;
                received += static_cast<int>(pending.size());
                pending.clear();
                continue;  // drain again before sleeping in poll()
            }
            pollfd fd{PQsocket(listener), POLLIN, 0};
            poll(&fd, 1, 50);
        }
    });

    const double cpu0 = cpu_seconds();
    Pacer pacer(rate);
    const timespec t0 = monotonic_now();
    for (int i = 0; i < total && !listener_failed; ++i) {
        pacer.wait(i);
        const std::string seq = std::to_string(i);
        const char* params[] = {seq.c_str()};
        send[i] = realtime_us();
        r = PQexecPrepared(sender, "probe", 1, params, nullptr, nullptr, 0);
        commit[i] = realtime_us();
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) die("probe", sender, r);
        created[i] = std::atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    const double elapsed = static_cast<double>(diff_ns(monotonic_now(), t0)) / 1e9;
    const timespec give_up = add_ns(monotonic_now(), 5000000000LL);
    while (received < total && !listener_failed && diff_ns(monotonic_now(), give_up) < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop = true;
    listen.join();
    const double cpu = cpu_seconds() - cpu0;
    PQfinish(sender);
    PQfinish(listener);
    if (listener_failed) {
        std::fprintf(stderr, "drover-bench-latency: listener: %s\n", listener_error.c_str());
        return 1;
    }
    if (received != total) {
        std::fprintf(stderr, "drover-bench-latency: %d of %d notifications never arrived\n", total - received.load(),
                     total);
        return 1;
    }

    FILE* out = std::fopen(out_path, "w");
    if (!out) {
        std::fprintf(stderr, "drover-bench-latency: %s: %s\n", out_path, std::strerror(errno));
        return 1;
    }
    for (int i = 0; i < total; ++i) {
        std::fprintf(out, "%d\t%s\t%lld\t%lld\t%lld\t%lld\t%lld\n", i, i < warmup ? "t" : "f", created[i], send[i],
                     commit[i], recv[i], stamp[i]);
    }
    std::fclose(out);
    std::printf("{\"jobs\":%d,\"warmup\":%d,\"rate\":%d,\"client_elapsed_s\":%.3f,\"late_sends\":%lld,\"cpu_s\":%.3f}\n",
                count, warmup, rate, elapsed, pacer.late, cpu);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7 || (std::strcmp(argv[1], "enqueue") != 0 && std::strcmp(argv[1], "notify") != 0)) {
        std::fprintf(stderr, "usage: %s enqueue|notify URL COUNT RATE WARMUP OUT\n", argv[0]);
        return 2;
    }
    const std::string url = argv[2];
    const int count = std::atoi(argv[3]);
    const int rate = std::atoi(argv[4]);
    const int warmup = std::atoi(argv[5]);
    if (count < 1 || rate < 1 || rate > 100000 || warmup < 0) {
        std::fprintf(stderr, "COUNT and RATE must be positive (RATE at most 100000), WARMUP at least 0\n");
        return 2;
    }
    return std::strcmp(argv[1], "enqueue") == 0 ? run_enqueue(url, count, rate, warmup, argv[6])
                                                : run_notify(url, count, rate, warmup, argv[6]);
}
