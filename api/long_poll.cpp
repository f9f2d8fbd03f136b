#include "api/long_poll.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "core/error.hpp"

namespace drover::api {

using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* channel = "drover_job_changes";
// "*" (every job some process waits on may have changed) comes with every
// statement that touches jobs while anyone waits: all waits are re-read at
// most this often, so a busy queue costs the database ~50 reads a second.
constexpr auto look_all_every = std::chrono::milliseconds(20);

bool finished(const std::string& status) {
    return status == "succeeded" || status == "failed" || status == "cancelled";
}

// Adds the ids of a drover_job_changes payload to `ids`; false for "*" (or
// anything unreadable): look at every waiter.
bool read_ids(std::string_view payload, std::unordered_set<std::int64_t>& ids) {
    if (payload == "*" || payload.empty()) return false;
    while (!payload.empty()) {
        auto comma = payload.find(',');
        auto one = payload.substr(0, comma);
        std::int64_t id = 0;
        auto [ptr, ec] = std::from_chars(one.data(), one.data() + one.size(), id);
        if (ec != std::errc() || ptr != one.data() + one.size()) return false;
        ids.insert(id);
        if (comma == std::string_view::npos) break;
        payload.remove_prefix(comma + 1);
    }
    return true;
}

}  // namespace

LongPoll::LongPoll(DbExecutor& db, std::string database_url, std::size_t max_waiting)
    : db_(db), url_(std::move(database_url)), max_waiting_(max_waiting) {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw Error("eventfd failed");
    thread_ = std::thread([this] { loop(); });
}

LongPoll::~LongPoll() {
    stop();
    close(wake_fd_);
}

void LongPoll::park(std::int64_t id, std::optional<std::int64_t> after_line, Clock::time_point deadline,
                    Pistache::Http::ResponseWriter response, RequestContext ctx, DbExecutor::Work work) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_ && count_ < max_waiting_) {
            parked_.push_back({id, after_line, deadline,
                               std::make_shared<Pistache::Http::ResponseWriter>(std::move(response)), std::move(ctx),
                               std::move(work), std::nullopt});
            ++count_;
            std::uint64_t one = 1;
            [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);  // a first look now
            return;
        }
    }
    // Full (or stopping): answer at once with what there is now.
    db_.run(std::move(response), std::move(ctx), std::move(work));
}

void LongPoll::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
}

std::size_t LongPoll::waiting() {
    std::lock_guard lock(mutex_);
    return count_;
}

void LongPoll::answer(Waiter& w) {
    // A waiter may have been parked across a Postgres restart, and the pool
    // connection its answer lands on may not have been used since: its first
    // query fails. The work only reads, so it runs once more on a new
    // connection rather than answering 503 to a client that waited.
    DbExecutor::Work work = [work = std::move(w.work)](db::Connection& conn) {
        try {
            return work(conn);
        } catch (const DbError&) {
            if (!conn.broken()) throw;
        }
        db::Connection fresh(conn.url(), "drover-api");
        return work(fresh);
    };
    db_.run(std::move(*w.response), std::move(w.ctx), std::move(work));
    std::lock_guard lock(mutex_);
    --count_;
}

void LongPoll::look(const std::vector<std::int64_t>& ids) {
    auto r = conn_->query("jobs/poll_waiting", db::Params().add(ids));
    std::map<std::int64_t, Seen> now;
    for (int i = 0; i < r.rows(); ++i) {
        now[r.int64(i, 0)] = {std::string(r.text(i, 1)), std::string(r.text(i, 2)), r.int64(i, 3),
                              r.optional_int64(i, 4),  r.optional_text(i, 5),       r.optional_int64(i, 6).value_or(0)};
    }
    for (auto id : ids) {
        auto it = waiting_.find(id);
        if (it == waiting_.end()) continue;
        auto s = now.find(id);
        std::vector<Waiter> still;
        for (auto& w : it->second) {
            bool ready;
            if (s == now.end() || s->second.app != w.ctx.app) {
                // No such job for this app: its work answers 404 now, exactly as for an unknown
                // id (waiting for another app's job would tell that it exists).
                ready = true;
            } else if (finished(s->second.status)) {
                ready = true;  // nothing more can change (a retry starts a new wait)
            } else if (w.after_line) {
                ready = s->second.last_line > *w.after_line;
            } else {
                const auto& a = s->second;
                ready = w.seen && (a.status != w.seen->status || a.attempt != w.seen->attempt ||
                                   a.percent != w.seen->percent || a.message != w.seen->message);
            }
            if (ready) {
                answer(w);
            } else {
                if (!w.seen) w.seen = s->second;
                still.push_back(std::move(w));
            }
        }
        if (still.empty()) {
            waiting_.erase(it);
            dropped(id);
        } else {
            it->second = std::move(still);
        }
    }
}

Clock::time_point LongPoll::answer_due() {
    auto now = Clock::now();
    auto next = Clock::time_point::max();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        auto& list = it->second;
        for (auto w = list.begin(); w != list.end();) {
            if (w->deadline <= now) {
                answer(*w);
                w = list.erase(w);
            } else {
                next = std::min(next, w->deadline);
                ++w;
            }
        }
        if (list.empty()) {
            dropped(it->first);
            it = waiting_.erase(it);
        } else {
            ++it;
        }
    }
    return next;
}

void LongPoll::dropped(std::int64_t id) {
    if (watched_.erase(id) > 0) unwatch_.push_back(id);
}

void LongPoll::loop() {
    std::unordered_set<std::int64_t> dirty;  // named by a notification (or just parked)
    bool look_all = false;                   // notifications may have been lost
    auto backoff = std::chrono::milliseconds(100);
    auto retry_at = Clock::time_point::min();
    auto watch_retry_at = Clock::time_point::min();  // after a watch that could not take its lock
    auto next_watch = Clock::time_point::max();
    Clock::time_point last_look_all{};  // long ago
    auto drain = [&] {
        conn_->consume_input();
        for (const auto& n : conn_->take_notifications()) {
            if (n.channel == channel && !read_ids(n.payload, dirty)) look_all = true;
        }
    };
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) break;
            for (auto& w : parked_) {
                dirty.insert(w.id);
                waiting_[w.id].push_back(std::move(w));
            }
            parked_.clear();
        }
        if (!conn_ && Clock::now() >= retry_at) {
            try {
                conn_ = std::make_unique<db::Connection>(url_, "drover-api-longpoll");
                // Workers' triggers queue behind the watch's lock: never for long.
                conn_->exec("SET lock_timeout = '200ms'");
                conn_->exec(std::string("LISTEN ") + channel);
                conn_->query("long_poll/forget_gone");
                watched_.clear();
                unwatch_.clear();
                look_all = true;
                backoff = std::chrono::milliseconds(100);
            } catch (const std::exception& e) {
                conn_.reset();
                spdlog::warn("long poll: cannot listen ({}); retrying in {} ms", e.what(), backoff.count());
                retry_at = Clock::now() + backoff;
                backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
            }
        }
        bool more = false;  // notifications arrived during the look: no sleep before the next
        if (conn_) {
            try {
                drain();
                // Watch the jobs not watched yet (new waiters; all after a
                // reconnect), committed before their first look.
                std::vector<std::int64_t> fresh;
                for (const auto& [id, list] : waiting_) {
                    if (!watched_.contains(id)) fresh.push_back(id);
                }
                if (!fresh.empty() && Clock::now() >= watch_retry_at) {
                    try {
                        conn_->query("long_poll/watch", db::Params().add(fresh));
                        watched_.insert(fresh.begin(), fresh.end());
                        dirty.insert(fresh.begin(), fresh.end());
                    } catch (const DbError& e) {
                        if (conn_->broken() || e.sqlstate() != "55P03") throw;
                        spdlog::warn("long poll: {} waits not watched yet: {}", fresh.size(), e.what());
                        watch_retry_at = Clock::now() + std::chrono::milliseconds(200);
                    }
                }
                bool all = look_all && Clock::now() - last_look_all >= look_all_every;
                std::vector<std::int64_t> ids;
                for (const auto& [id, list] : waiting_) {
                    if (watched_.contains(id) && (all || dirty.contains(id))) ids.push_back(id);
                }
                // Unwatched ones keep their mark for the look after their watch.
                std::erase_if(dirty, [&](std::int64_t id) { return watched_.contains(id) || !waiting_.contains(id); });
                if (all) {
                    look_all = false;
                    last_look_all = Clock::now();
                }
                if (!ids.empty()) look(ids);
                if (!unwatch_.empty()) {
                    std::erase_if(unwatch_, [&](std::int64_t id) { return watched_.contains(id); });
                    conn_->query("long_poll/unwatch", db::Params().add(unwatch_));
                    unwatch_.clear();
                }
                drain();
                more = std::any_of(dirty.begin(), dirty.end(), [&](std::int64_t id) { return watched_.contains(id); });
                if (watched_.size() < waiting_.size()) next_watch = watch_retry_at;
                if (look_all) next_watch = std::min(next_watch, last_look_all + look_all_every);
            } catch (const std::exception& e) {
                // Broken or not, start over on a new connection: what it missed is looked at then.
                spdlog::warn("long poll: {}; reconnecting", e.what());
                conn_.reset();
                retry_at = Clock::now() + backoff;
                backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
            }
        }
        auto next = std::min(answer_due(), next_watch);
        next_watch = Clock::time_point::max();
        if (!conn_) next = std::min(next, retry_at);
        auto left = more ? Clock::duration::zero() : next - Clock::now();
        auto ms = std::clamp<std::int64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(left + std::chrono::microseconds(999)).count(), 0,
            60000);
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {conn_ ? conn_->socket() : -1, POLLIN, 0}};
        if (poll(fds, conn_ ? 2 : 1, static_cast<int>(ms)) > 0 && (fds[0].revents & POLLIN)) {
            std::uint64_t count;
            [[maybe_unused]] auto n = read(wake_fd_, &count, sizeof count);
        }
    }
    // Stopping: everyone is answered with what there is now.
    std::vector<Waiter> all;
    {
        std::lock_guard lock(mutex_);
        all = std::move(parked_);
        parked_.clear();
    }
    for (auto& [id, list] : waiting_) {
        for (auto& w : list) all.push_back(std::move(w));
    }
    waiting_.clear();
    for (auto& w : all) answer(w);
}

}  // namespace drover::api
