#include "api/db_executor.hpp"

#include <spdlog/spdlog.h>

#include "api/http_error.hpp"
#include "api/metrics.hpp"
#include "core/error.hpp"

namespace drover::api {

using Pistache::Http::Code;

DbExecutor::DbExecutor(std::string database_url, int connections, std::size_t queue_limit, int statement_timeout_ms)
    : url_(std::move(database_url)), queue_limit_(queue_limit), statement_timeout_ms_(statement_timeout_ms) {
    for (int i = 0; i < connections; ++i) threads_.emplace_back([this] { loop(); });
}

DbExecutor::~DbExecutor() { stop(); }

void DbExecutor::run(Pistache::Http::ResponseWriter response, RequestContext ctx, Work work) {
    auto shared = std::make_shared<Pistache::Http::ResponseWriter>(std::move(response));
    {
        std::lock_guard lock(mutex_);
        if (!stopping_ && queue_.size() < queue_limit_) {
            queue_.push_back({std::move(shared), std::move(ctx), std::move(work), std::chrono::steady_clock::now()});
            ready_.notify_one();
            return;
        }
        ++rejected_;
    }
    send_reply(*shared, error_reply(Code::Service_Unavailable, "overloaded", "too many requests in flight; try again", ctx),
               ctx);
}

void DbExecutor::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
}

void DbExecutor::loop() {
    std::unique_ptr<db::Connection> conn;
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping and drained
            task = std::move(queue_.front());
            queue_.pop_front();
            ++busy_;
            double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - task.queued_at).count();
            std::size_t i = 0;
            while (i < wait_bounds.size() && waited > wait_bounds[i]) ++i;
            ++wait_buckets_[i];
            wait_sum_s_ += waited;
        }
        execute(task, conn);
        std::lock_guard lock(mutex_);
        --busy_;
    }
}

DbExecutor::Use DbExecutor::use() {
    std::lock_guard lock(mutex_);
    return {threads_.size(), busy_, queue_.size(), queue_limit_, rejected_, wait_buckets_, wait_sum_s_};
}

void DbExecutor::execute(Task& task, std::unique_ptr<db::Connection>& conn) {
    Reply reply;
    try {
        if (!conn || conn->broken()) {
            conn.reset();
            conn = std::make_unique<db::Connection>(url_, "drover-api");
            conn->exec("SET statement_timeout = " + std::to_string(statement_timeout_ms_));
        }
        reply = task.work(*conn);
    } catch (...) {
        reply = error_reply(std::current_exception(), task.ctx);
        // A statement that failed inside an explicit transaction would leave
        // it aborted; handlers use single statements, so only a broken
        // connection needs replacing, which the next task does.
    }
    send_reply(*task.response, reply, task.ctx);
}

}  // namespace drover::api
