#include "api/auth/authenticator.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

#include "api/db_executor.hpp"
#include "api/http_error.hpp"
#include "core/crypto.hpp"

namespace drover::api {

using Pistache::Http::Code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto touch_every = std::chrono::seconds(60);
constexpr std::size_t max_cached = 100000;  // keys; the cache is cleared past it

const char* invalid_key_message = "the API key is not valid (unknown, revoked or mistyped)";

// The presented key: "Authorization: Bearer <key>", else "X-API-Key: <key>".
std::optional<std::string> presented_key(const Pistache::Http::Request& request) {
    std::optional<std::string> value;
    if (auto typed = request.headers().tryGet<Pistache::Http::Header::Authorization>()) {
        value = typed->value();
    } else if (auto raw = request.headers().tryGetRaw("Authorization")) {
        value = raw->value();
    }
    if (value) {
        std::string_view v = *value;
        if (v.size() < 7 || strncasecmp(v.data(), "Bearer ", 7) != 0) return std::string();  // present, unusable
        v.remove_prefix(7);
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        return std::string(v);
    }
    if (auto raw = request.headers().tryGetRaw("X-API-Key")) return raw->value();
    return std::nullopt;
}

}  // namespace

Reply unauthorized_reply(const std::string& message, const RequestContext& ctx) {
    auto r = error_reply(Code::Unauthorized, "unauthorized", message, ctx);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

Authenticator::Authenticator(Options options) : options_(std::move(options)) {
    if (options_.cache_ttl > std::chrono::milliseconds(1000)) options_.cache_ttl = std::chrono::milliseconds(1000);
    thread_ = std::thread([this] { loop(); });
}

Authenticator::~Authenticator() { stop(); }

void Authenticator::stop() {
    {
        std::lock_guard lock(queue_mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::optional<RequestContext> Authenticator::authenticate(const Pistache::Http::Request& request,
                                                          Pistache::Http::ResponseWriter& response,
                                                          RequestContext ctx, Need need,
                                                          const std::function<Next()>& make_next) {
    if (!options_.enabled && need.listener == Need::Listener::public_) {
        ctx.app = "default";
        ctx.role = "admin";
        return ctx;
    }
    auto key = presented_key(request);
    if (!key) {
        send_reply(response,
                   unauthorized_reply("this route needs an API key: send \"Authorization: Bearer <key>\"", ctx), ctx);
        return std::nullopt;
    }
    auto prefix = key_prefix(*key);
    if (!prefix) {
        send_reply(response, unauthorized_reply(invalid_key_message, ctx), ctx);
        return std::nullopt;
    }
    std::string digest = crypto::sha256(*key);
    std::optional<KeyRecord> cached;
    {
        std::lock_guard lock(mutex_);
        auto it = cache_.find(*prefix);
        if (it != cache_.end() && Clock::now() - it->second.fetched < options_.cache_ttl) cached = it->second.record;
    }
    if (cached) {
        ++cache_hits_;
        if (auto refusal = decide(*cached, digest, need, ctx)) {
            send_reply(response, *refusal, ctx);
            return std::nullopt;
        }
        return ctx;
    }
    auto shared = std::make_shared<Pistache::Http::ResponseWriter>(std::move(response));
    {
        std::lock_guard lock(queue_mutex_);
        if (!stopping_ && queue_.size() < options_.queue_limit) {
            queue_.push_back({std::move(*prefix), std::move(digest), ctx, need, shared, make_next()});
            ready_.notify_one();
            return std::nullopt;
        }
    }
    send_reply(*shared, error_reply(Code::Service_Unavailable, "overloaded", "too many requests in flight; try again", ctx),
               ctx);
    return std::nullopt;
}

std::optional<Reply> Authenticator::decide(const KeyRecord& record, const std::string& digest, Need need,
                                           RequestContext& ctx) {
    // The hash first, in constant time: nothing else about a key is told to
    // whoever does not hold it.
    if (!crypto::constant_time_equal(digest, record.hash) || record.revoked) {
        return unauthorized_reply(invalid_key_message, ctx);
    }
    if (need.listener == Need::Listener::admin) {
        if (record.role != Role::operator_) {
            return error_reply(Code::Forbidden, "forbidden",
                               "the admin listener needs an operator key; this is an app key", ctx);
        }
    } else if (record.role == Role::operator_) {
        return error_reply(Code::Forbidden, "forbidden",
                           "an operator key opens the admin listener only; use a key of the app", ctx);
    } else if (record.role < need.least) {
        return error_reply(Code::Forbidden, "forbidden",
                           std::string("this key's role '") + role_name(record.role) + "' may not do this; it needs '" +
                               role_name(need.least) + "' or more",
                           ctx);
    }
    ctx.app = record.app.value_or("");
    ctx.role = role_name(record.role);
    ctx.key_id = record.id;
    if (record.rate_limit_per_s && *record.rate_limit_per_s > 0) {
        double rate = static_cast<double>(*record.rate_limit_per_s);
        std::lock_guard lock(mutex_);
        auto now = Clock::now();
        auto [it, fresh] = buckets_.try_emplace(record.id, Bucket{rate, now});
        auto& b = it->second;
        b.tokens = std::min(rate, b.tokens + rate * std::chrono::duration<double>(now - b.at).count());
        b.at = now;
        if (b.tokens < 1.0) {
            auto wait_s = static_cast<long>(std::ceil((1.0 - b.tokens) / rate));
            auto r = error_reply(Code::Too_Many_Requests, "rate_limited",
                                 "this key is limited to " + std::to_string(*record.rate_limit_per_s) +
                                     " requests per second (per API process); slow down",
                                 ctx);
            r.headers.emplace_back("Retry-After", std::to_string(std::max(1L, wait_s)));
            return r;
        }
        b.tokens -= 1.0;
    }
    return std::nullopt;
}

void Authenticator::loop() {
    std::unique_ptr<db::Connection> conn;
    for (;;) {
        Pending p;
        {
            std::unique_lock lock(queue_mutex_);
            ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            p = std::move(queue_.front());
            queue_.pop_front();
        }
        resolve(p, conn);
    }
}

void Authenticator::resolve(Pending& p, std::unique_ptr<db::Connection>& conn) {
    std::optional<KeyRecord> record;
    bool touch = false;
    try {
        {
            // Several requests with one key may have queued behind its first lookup.
            std::lock_guard lock(mutex_);
            auto it = cache_.find(p.prefix);
            if (it != cache_.end() && Clock::now() - it->second.fetched < options_.cache_ttl) record = it->second.record;
        }
        if (!record) {
            if (!conn || conn->broken()) {
                conn.reset();
                conn = std::make_unique<db::Connection>(options_.database_url, "drover-api-auth");
                conn->exec("SET statement_timeout = " + std::to_string(options_.statement_timeout_ms));
            }
            auto fetched_at = Clock::now();
            ++lookups_;
            record = KeyStore(*conn).find(p.prefix);
            if (record) {
                std::lock_guard lock(mutex_);
                if (cache_.size() >= max_cached) cache_.clear();
                cache_[p.prefix] = {*record, fetched_at};
                auto& last = touched_[record->id];
                if (!record->revoked && crypto::constant_time_equal(p.digest, record->hash) &&
                    (last == Clock::time_point{} || fetched_at - last >= touch_every)) {
                    last = fetched_at;
                    touch = true;
                }
            }
        }
    } catch (...) {
        send_reply(*p.response, error_reply(std::current_exception(), p.ctx), p.ctx);
        return;
    }
    if (touch) {
        try {
            KeyStore(*conn).touch(record->id);
        } catch (const std::exception& e) {
            spdlog::warn("recording the use of key {}: {}", record->id, e.what());  // the request goes on
        }
    }
    if (!record) {
        send_reply(*p.response, unauthorized_reply(invalid_key_message, p.ctx), p.ctx);
        return;
    }
    if (auto refusal = decide(*record, p.digest, p.need, p.ctx)) {
        send_reply(*p.response, *refusal, p.ctx);
        return;
    }
    p.next(p.ctx, std::move(*p.response));
}

}  // namespace drover::api
