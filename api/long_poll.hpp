#pragma once
// Long-polling (GET /v1/jobs/{id}?wait=S, GET /v1/jobs/{id}/logs?wait=S):
// a request that asks to wait is parked here, holding neither a reactor
// thread nor a database connection: only its ResponseWriter. One thread of
// this class, with one connection of its own (application_name
// drover-api-longpoll), LISTENs on drover_job_changes and answers:
//  - a status wait when the job's status, attempt or progress differs from
//    what it was when the request parked;
//  - a logs wait when the job has a line past the client's cursor;
//  - either at once when the job is already finished (nothing more can
//    change), is not the app's or does not exist (404 from the handler's own
//    work, exactly as for an unknown id), and at the deadline with the state
//    unchanged.
// "Answered" means handed to the DbExecutor, which runs the handler's work
// like for any request (so the body is the same as without ?wait).
//
// Who notifies: statement-level triggers on drover.jobs (UPDATE) and
// drover.job_logs (INSERT), migration 20261201000050, one notification per
// statement, payload "*" (look at every job you wait on; a payload of
// comma-separated ids is also understood) — only while some API process
// waits: the loop keeps drover.job_waiters up to date for its connection
// (long_poll/watch before a job's first look, long_poll/unwatch once nobody
// waits on it), so workers pay for NOTIFY only while a client waits. "*"
// re-reads every wait of this process in one query, at most every 20 ms.
// Workers and the API's handlers need no code for it.
//
// No change is lost:
//  - a job is watched (drover.watch_jobs, whose lock waits for every writer
//    that could have missed the registration) before the waiter's first
//    look, which gives the state it compares with: a change committed
//    before that look is part of it, one committed after is notified;
//  - the LISTEN is made before any watch, and the connection is drained
//    after every query (libpq buffers notifications that arrive during one);
//  - after a reconnect (Postgres restarted, connection killed) every job is
//    watched again and every waiter looked at again, since notifications
//    were lost meanwhile.
// Hence no periodic re-check: while the connection is up, every UPDATE of
// jobs and every log line notifies while a job is watched (only a
// TRUNCATE or a disabled trigger would not, and neither is a state a client
// waits for). While it is down, deadlines still hold. If the watch cannot
// take its lock within 200 ms (a long transaction that read job_waiters),
// it is tried again 200 ms later; meanwhile the new waiters wait unlooked.
#include <pistache/http.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/db_executor.hpp"

namespace drover::api {

class LongPoll {
public:
    LongPoll(DbExecutor& db, std::string database_url, std::size_t max_waiting = 10000);
    ~LongPoll();
    LongPoll(const LongPoll&) = delete;
    LongPoll& operator=(const LongPoll&) = delete;

    // Answers with `work` (through the DbExecutor) once job `id` changed — or,
    // when after_line is set, has a log line past it — or at `deadline`.
    void park(std::int64_t id, std::optional<std::int64_t> after_line, std::chrono::steady_clock::time_point deadline,
              Pistache::Http::ResponseWriter response, RequestContext ctx, DbExecutor::Work work);
    // Answers every parked request now, then stops the thread.
    void stop();

    // Requests parked now (for GET /status).
    std::size_t waiting();

private:
    // What a waiter compares with.
    struct Seen {
        std::string app;
        std::string status;
        std::int64_t attempt = 0;
        std::optional<std::int64_t> percent;
        std::optional<std::string> message;
        std::int64_t last_line = 0;
        bool operator==(const Seen&) const = default;
    };
    struct Waiter {
        std::int64_t id = 0;
        std::optional<std::int64_t> after_line;
        std::chrono::steady_clock::time_point deadline;
        std::shared_ptr<Pistache::Http::ResponseWriter> response;
        RequestContext ctx;
        DbExecutor::Work work;
        std::optional<Seen> seen;  // none: not looked at yet
    };
    void loop();
    void answer(Waiter& w);
    // Looks at the jobs of `ids` and answers the waiters among `waiting_`
    // whose job changed (or that were never looked at and need no wait).
    void look(const std::vector<std::int64_t>& ids);
    std::chrono::steady_clock::time_point answer_due();
    // Notes that nobody here waits on job `id` any more.
    void dropped(std::int64_t id);

    DbExecutor& db_;
    std::string url_;
    std::size_t max_waiting_;
    int wake_fd_ = -1;
    std::mutex mutex_;
    std::vector<Waiter> parked_;  // handed over by park(), taken by the loop
    std::size_t count_ = 0;       // parked_ plus the loop's own
    bool stopping_ = false;
    // The loop's own.
    std::unique_ptr<db::Connection> conn_;
    std::unordered_map<std::int64_t, std::vector<Waiter>> waiting_;
    std::unordered_set<std::int64_t> watched_;  // in drover.job_waiters for conn_
    std::vector<std::int64_t> unwatch_;         // watched, nobody waits on them any more
    std::thread thread_;
};

}  // namespace drover::api
