// The streamed-body pump (api/http/stream_pump) without a server: writes that
// finish at once, later on another thread, or a mix; a body that fails
// halfway; a client that goes away. What it must keep in every case: the
// bytes in order, one write outstanding at a time, a flat stack, and the
// connection told exactly once how the answer ended.
#include "api/http/stream_pump.hpp"

#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

using namespace drover::api;
using namespace drover::api::http;
using Pistache::Async::Deferred;
using Pistache::Async::Promise;

namespace {

// `count` chunks of one letter each; notes how deep the stack is at each read.
class Letters : public BodySource {
public:
    explicit Letters(int count, int fail_at = -1) : count_(count), fail_at_(fail_at) {}
    bool next(std::string& chunk) override {
        auto frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
        lowest = std::min(lowest, frame);
        highest = std::max(highest, frame);
        if (served == fail_at_) throw std::runtime_error("the disk went away");
        if (served == count_) return false;
        chunk.assign(1, static_cast<char>('a' + served % 26));
        ++served;
        return true;
    }
    std::string expected() const {
        std::string out;
        for (int i = 0; i < count_; ++i) out += static_cast<char>('a' + i % 26);
        return out;
    }
    std::uintptr_t lowest = UINTPTR_MAX, highest = 0;
    int served = 0;

private:
    int count_;
    int fail_at_;
};

// Takes the pump's writes: each finishes at once, or later on a thread of its
// own (as Pistache's reactor would), as `at_once` says; or fails (client gone).
class Wire {
public:
    std::function<bool(int)> at_once = [](int) { return true; };
    bool refuse = false;

    Wire() : thread_([this] { loop(); }) {}
    ~Wire() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    ChunkWriter writer() {
        return [this](std::string bytes) {
            std::unique_lock lock(mutex_);
            if (outstanding_) overlapped = true;
            ++writes;
            if (refuse) return Promise<ssize_t>::rejected(std::runtime_error("the client is gone"));
            if (at_once(writes)) {
                received += bytes;
                return Promise<ssize_t>::resolved(static_cast<ssize_t>(bytes.size()));
            }
            outstanding_ = true;
            return Promise<ssize_t>([&](Deferred<ssize_t> deferred) {
                queue_.push_back({std::move(bytes), std::move(deferred)});
                cv_.notify_all();
            });
        };
    }

    // Waits until `done` says the answer has ended.
    template <typename Pred>
    void wait(Pred done) {
        std::unique_lock lock(mutex_);
        BOOST_REQUIRE(cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done(); }));
    }
    void notify() { cv_.notify_all(); }

    std::mutex mutex_;
    std::string received;
    int writes = 0;
    bool overlapped = false;

private:
    struct Pending {
        std::string bytes;
        Deferred<ssize_t> deferred;
    };
    void loop() {
        std::unique_lock lock(mutex_);
        for (;;) {
            cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (stop_) return;
            auto p = std::move(queue_.front());
            queue_.pop_front();
            received += p.bytes;
            outstanding_ = false;
            lock.unlock();
            p.deferred.resolve(static_cast<ssize_t>(p.bytes.size()));
            lock.lock();
        }
    }
    std::condition_variable cv_;
    std::deque<Pending> queue_;
    bool outstanding_ = false;
    bool stop_ = false;
    std::thread thread_;
};

struct Ending {
    int calls = 0;
    bool close = false;
};

std::shared_ptr<ConnectionState> watched(Wire& wire, Ending& ending) {
    auto state = std::make_shared<ConnectionState>();
    state->in_flight = true;
    state->on_written = [&wire, &ending](bool close) {
        {
            std::lock_guard lock(wire.mutex_);
            ++ending.calls;
            ending.close = close;
        }
        wire.notify();
    };
    return state;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stream_pump_test)

// Pistache runs a continuation at once when the write finished before then()
// was attached; the pump used to send the next chunk from there, one stack
// level (and one chunk held) per chunk.
BOOST_AUTO_TEST_CASE(writes_that_finish_at_once_are_sent_from_a_loop_not_a_recursion) {
    Wire wire;
    Ending ending;
    auto body = std::make_shared<Letters>(5000);
    auto pump = std::make_shared<StreamPump>(wire.writer(), watched(wire, ending), body, false, false, "r1");
    pump->start("HEAD\r\n\r\n");
    wire.wait([&] { return ending.calls > 0; });
    BOOST_TEST(wire.received == "HEAD\r\n\r\n" + body->expected());
    BOOST_TEST(wire.writes == 5001);
    BOOST_TEST(ending.calls == 1);
    BOOST_TEST(!ending.close);
    // One frame's worth, not 5,000 of them.
    BOOST_TEST(body->highest - body->lowest < 4096u, "the stack grew by " << body->highest - body->lowest << " bytes");
}

BOOST_AUTO_TEST_CASE(writes_that_finish_later_or_at_once_in_any_mix_keep_order_and_one_write_at_a_time) {
    for (int pattern : {0, 1, 2, 3}) {
        Wire wire;
        wire.at_once = [pattern](int n) {
            switch (pattern) {
                case 0: return false;                     // always later, on the wire's thread
                case 1: return n % 2 == 0;                // alternating
                case 2: return n % 7 != 0;                // mostly at once
                default: return (n * 2654435761u) % 3 == 0;  // scattered
            }
        };
        Ending ending;
        auto body = std::make_shared<Letters>(3000);
        // Nothing but the writes' continuations holds the pump.
        std::make_shared<StreamPump>(wire.writer(), watched(wire, ending), body, true, true, "r2")->start("H");
        wire.wait([&] { return ending.calls > 0; });
        std::string framed = "H";
        for (char c : body->expected()) framed += std::string("1\r\n") + c + "\r\n";
        framed += "0\r\n\r\n";
        BOOST_TEST(wire.received == framed, "pattern " << pattern);
        BOOST_TEST(!wire.overlapped, "pattern " << pattern);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a second ending would come now
        std::lock_guard lock(wire.mutex_);
        BOOST_TEST(ending.calls == 1, "pattern " << pattern);
        BOOST_TEST(ending.close);
    }
}

BOOST_AUTO_TEST_CASE(a_body_that_fails_halfway_closes_the_connection_short_and_reads_no_further) {
    for (bool later : {false, true}) {
        Wire wire;
        wire.at_once = [later](int) { return !later; };
        Ending ending;
        auto body = std::make_shared<Letters>(100, 40);
        std::make_shared<StreamPump>(wire.writer(), watched(wire, ending), body, false, false, "r3")->start("H");
        wire.wait([&] { return ending.calls > 0; });
        BOOST_TEST(wire.received == "H" + body->expected().substr(0, 40));
        BOOST_TEST(ending.close);  // asked to keep the connection: closed anyway, the length promised is not met
        BOOST_TEST(body->served == 40);
    }
}

BOOST_AUTO_TEST_CASE(a_client_gone_stops_the_body_and_frees_the_connection) {
    Wire wire;
    wire.refuse = true;
    Ending ending;
    auto body = std::make_shared<Letters>(100);
    auto state = watched(wire, ending);
    std::make_shared<StreamPump>(wire.writer(), state, body, false, false, "r4")->start("H");
    BOOST_TEST(wire.writes == 1);
    BOOST_TEST(body->served == 0);
    BOOST_TEST(!state->in_flight);
    BOOST_TEST(ending.calls == 0);

    // Reported gone before the answer: nothing is written at all.
    Wire wire2;
    auto gone = watched(wire2, ending);
    gone->gone = true;
    std::make_shared<StreamPump>(wire2.writer(), gone, body, false, false, "r5")->start("H");
    BOOST_TEST(wire2.writes == 0);
}

BOOST_AUTO_TEST_SUITE_END()
