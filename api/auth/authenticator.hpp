#pragma once
// Who is calling: the API key of each request, its app and role, checked
// before any handler runs (router.cpp calls it for every route but health).
//
// A key is sent as `Authorization: Bearer <key>` or `X-API-Key: <key>` (for
// clients that cannot set Authorization). No key, a key of the wrong form,
// an unknown or revoked key, or one whose hash does not match: 401 with
// `WWW-Authenticate: Bearer` and the same body whatever the reason. A good
// key whose role is too weak: 403. Over its app's rate: 429 + Retry-After.
//
// Cost: a verified key is trusted for DROVER_AUTH_CACHE_MS (default 900 ms,
// at most 1000): within that time a request costs a SHA-256 and a
// constant-time compare, no database; past it, one unique-index lookup by the
// key's prefix (keys/find_by_prefix) on this class's own thread and
// connection, never on a reactor thread. So a revoked key is refused by every
// API process within a second. last_used_at is written at most once a minute
// per key and process.
//
// Rate limits (apps.rate_limit_per_s) are per key and per API process: a
// token bucket of that many tokens refilled at that rate; with N API
// processes a key may make up to N times the rate.
#include <pistache/http.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "api/reply.hpp"
#include "core/db/connection.hpp"
#include "core/store/key_store.hpp"

namespace drover::api {

// What a route asks of the caller's key.
struct Need {
    enum class Listener { public_, admin };
    Listener listener = Listener::public_;
    Role least = Role::read;  // public listener: the weakest role allowed (read < submit < admin)

    static Need app_role(Role r) { return {Listener::public_, r}; }
    static Need operator_key() { return {Listener::admin, Role::operator_}; }
};

class Authenticator {
public:
    struct Options {
        bool enabled = true;  // false: DROVER_AUTH=off (public listener only)
        std::chrono::milliseconds cache_ttl{900};
        std::string database_url;
        int statement_timeout_ms = 10000;
        std::size_t queue_limit = 1024;
    };
    explicit Authenticator(Options options);
    ~Authenticator();
    Authenticator(const Authenticator&) = delete;
    Authenticator& operator=(const Authenticator&) = delete;

    using Next = std::function<void(RequestContext, Pistache::Http::ResponseWriter)>;
    // Returns ctx with app, role and key_id filled when the request may go on
    // now (its key's record was cached); the caller then answers `response`.
    // Otherwise takes care of `response` itself: answers the refusal, or
    // moves it to the lookup thread, which calls make_next()'s continuation
    // with it if the key turns out good (make_next copies the request, so it
    // runs only then).
    std::optional<RequestContext> authenticate(const Pistache::Http::Request& request,
                                               Pistache::Http::ResponseWriter& response, RequestContext ctx,
                                               Need need, const std::function<Next()>& make_next);
    void stop();

    // For /metrics: requests decided from the cache, and key lookups made.
    std::uint64_t cache_hits() const { return cache_hits_; }
    std::uint64_t lookups() const { return lookups_; }

private:
    struct Cached {
        KeyRecord record;
        std::chrono::steady_clock::time_point fetched;
    };
    struct Bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point at;
    };
    struct Pending {
        std::string prefix;
        std::string digest;
        RequestContext ctx;
        Need need;
        std::shared_ptr<Pistache::Http::ResponseWriter> response;
        Next next;
    };

    // The refusal for this key record, or nothing (ctx filled) when it may pass.
    std::optional<Reply> decide(const KeyRecord& record, const std::string& digest, Need need, RequestContext& ctx);
    void loop();
    void resolve(Pending& pending, std::unique_ptr<db::Connection>& conn);

    Options options_;
    std::mutex mutex_;  // cache_, buckets_, touched_
    std::unordered_map<std::string, Cached> cache_;
    std::unordered_map<std::int64_t, Bucket> buckets_;
    std::unordered_map<std::int64_t, std::chrono::steady_clock::time_point> touched_;

    std::mutex queue_mutex_;
    std::condition_variable ready_;
    std::deque<Pending> queue_;
    bool stopping_ = false;
    std::thread thread_;
    std::atomic<std::uint64_t> cache_hits_{0};
    std::atomic<std::uint64_t> lookups_{0};
};

// 401 with WWW-Authenticate: Bearer.
Reply unauthorized_reply(const std::string& message, const RequestContext& ctx);

}  // namespace drover::api
