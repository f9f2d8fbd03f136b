#include "api/long_poll.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "api/http_error.hpp"

namespace drover::api {

using Clock = std::chrono::steady_clock;

LongPoll::LongPoll(DbExecutor& db, std::string database_url, std::chrono::milliseconds interval,
                   std::size_t max_waiting)
    : db_(db), url_(std::move(database_url)), interval_(interval), max_waiting_(max_waiting) {
    thread_ = std::thread([this] { loop(); });
}

LongPoll::~LongPoll() { stop(); }

void LongPoll::park(std::int64_t id, std::optional<std::int64_t> after_line, Clock::time_point deadline,
                    Pistache::Http::ResponseWriter response, RequestContext ctx, DbExecutor::Work work) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_ && waiting_.size() < max_waiting_) {
            waiting_.push_back({id, after_line, deadline,
                                std::make_shared<Pistache::Http::ResponseWriter>(std::move(response)), std::move(ctx),
                                std::move(work)});
            fresh_ = true;  // a first look now, not after a whole interval
            wake_.notify_one();
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
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void LongPoll::answer(Waiter& w) { db_.run(std::move(*w.response), std::move(w.ctx), std::move(w.work)); }

void LongPoll::loop() {
    std::unique_ptr<db::Connection> conn;
    for (;;) {
        std::vector<std::int64_t> ids;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
            fresh_ = false;
            if (stopping_) {
                for (auto& w : waiting_) answer(w);
                waiting_.clear();
                return;
            }
            for (const auto& w : waiting_) ids.push_back(w.id);
        }
        // id -> (app, finished, last line); a job missing here is answered (404) by its work.
        struct State {
            std::string app;
            bool finished = false;
            std::int64_t last_line = 0;
        };
        std::map<std::int64_t, State> states;
        bool polled = false;
        try {
            if (!conn || conn->broken()) {
                conn.reset();
                conn = std::make_unique<db::Connection>(url_, "drover-api-longpoll");
            }
            auto r = conn->query("jobs/poll_waiting", db::Params().add(ids));
            for (int i = 0; i < r.rows(); ++i) {
                states[r.int64(i, 0)] = {std::string(r.text(i, 1)), r.boolean(i, 2), r.optional_int64(i, 3).value_or(0)};
            }
            polled = true;
        } catch (const std::exception& e) {
            // The deadlines still hold; the waiters are answered (503 or not) by their work.
            spdlog::warn("long poll: {}", e.what());
        }
        auto now = Clock::now();
        {
            std::lock_guard lock(mutex_);
            std::vector<Waiter> still;
            for (auto& w : waiting_) {
                bool ready = now >= w.deadline;
                if (polled && !ready) {
                    // Only ids of this round were polled; a waiter parked since waits for the next.
                    bool asked = std::find(ids.begin(), ids.end(), w.id) != ids.end();
                    auto s = states.find(w.id);
                    if (asked && (s == states.end() || s->second.app != w.ctx.app)) {
                        // No such job for this app: its work answers 404 now, exactly as for an unknown
                        // id (waiting for another app's job would tell that it exists).
                        ready = true;
                    } else if (asked) {
                        ready = s->second.finished || (w.after_line && s->second.last_line > *w.after_line);
                    }
                }
                if (ready) {
                    answer(w);
                } else {
                    still.push_back(std::move(w));
                }
            }
            waiting_ = std::move(still);
        }
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, interval_, [&] { return stopping_ || fresh_; });
    }
}

}  // namespace drover::api
