// What the Redis adapters do when their server crashes, hangs, drops connections or restarts.
// Each test runs its own redis-server (TestRedisServer), so stopping it disturbs no other test.
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "adapters/contract/invalidation_bus_contract.hpp"
#include "adapters/contract/realtime_counters_contract.hpp"
#include "adapters/redis/redis_test_support.hpp"

namespace kurz::testing {
namespace {

using adapters::redis::RedisClient;
using adapters::redis::RedisInvalidationBus;
using adapters::redis::RedisOptions;
using adapters::redis::RedisRateLimitStore;
using adapters::redis::RedisRealtimeCounters;
using adapters::redis::RedisSharedCache;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout{150};
// A failed call may cost one timeout; allow for a slow (sanitized, shared) machine on top.
constexpr milliseconds kFailWithin{kTimeout * 2 + milliseconds(100)};

bool WaitUntil(const std::function<bool()>& done, milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return done();
}

template <class F>
milliseconds Timed(F&& f) {
  const auto start = Clock::now();
  f();
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

class RedisFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Start();
    options_ = OptionsFor(server_.url());
    options_.timeout = kTimeout;
    options_.down_for = milliseconds(250);
    client_ = std::make_unique<RedisClient>(options_);
    cache_ = std::make_unique<RedisSharedCache>(*client_);
    limits_ = std::make_unique<RedisRateLimitStore>(*client_);
  }

  ports::CachedRedirect Value(std::string location = "https://example.com/") {
    ports::CachedRedirect value;
    value.state = core::LinkState::kActive;
    value.location = std::move(location);
    return value;
  }

  void ExpectUnavailable(const core::Result<void>& result) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, core::ErrorCode::kUnavailable) << result.error().detail;
  }
  template <class T>
  void ExpectUnavailable(const core::Result<T>& result) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, core::ErrorCode::kUnavailable) << result.error().detail;
  }

  bool CacheWorks() {
    return cache_->Put("probe", Value(), ports::kSharedCacheTtl) && cache_->Get("probe");
  }

  // Declared first: destroyed last, after the buses that call into the inbox.
  TestRedisServer server_;
  Inbox inbox_;
  RedisOptions options_;
  std::unique_ptr<RedisClient> client_;
  std::unique_ptr<RedisSharedCache> cache_;
  std::unique_ptr<RedisRateLimitStore> limits_;
  std::unique_ptr<RedisInvalidationBus> bus_;
};

TEST_F(RedisFaultsTest, CallsFailWithinTheTimeoutWhileTheServerIsDownAndRecoverAfter) {
  ASSERT_TRUE(CacheWorks());
  const core::GcraLimit limit{.rate_per_second = 1, .burst = 10};
  ASSERT_TRUE(limits_->Check("client", limit, kT0));
  RedisInvalidationBus bus(*client_);

  server_.Kill();
  for (int i = 0; i < 5; ++i) {
    EXPECT_LT(Timed([&] { ExpectUnavailable(cache_->Get("code")); }), kFailWithin);
    EXPECT_LT(Timed([&] { ExpectUnavailable(cache_->Put("code", Value(), 1'000'000)); }),
              kFailWithin);
    EXPECT_LT(Timed([&] { ExpectUnavailable(cache_->Remove("code")); }), kFailWithin);
    EXPECT_LT(Timed([&] { ExpectUnavailable(limits_->Check("client", limit, kT0)); }), kFailWithin);
    EXPECT_LT(Timed([&] { ExpectUnavailable(bus.Publish("code")); }), kFailWithin);
    EXPECT_LT(Timed([&] { ExpectUnavailable(client_->Ping()); }), kFailWithin);
  }

  server_.Start();  // empty: no keys, no cached scripts
  EXPECT_TRUE(WaitUntil([&] { return CacheWorks(); }, milliseconds(3000)));
  auto check = limits_->Check("client", limit, kT0);  // EVALSHA → NOSCRIPT → EVAL
  ASSERT_TRUE(check) << Describe(check);
  EXPECT_TRUE(check->allowed);
  EXPECT_EQ(check->remaining, 9);
  EXPECT_TRUE(bus.Publish("code"));
}

TEST_F(RedisFaultsTest, AHungServerCostsOneTimeoutThenFailsFastUntilItAnswersAgain) {
  ASSERT_TRUE(CacheWorks());
  server_.Pause();
  const milliseconds first = Timed([&] { ExpectUnavailable(cache_->Get("probe")); });
  EXPECT_GE(first, kTimeout - milliseconds(10));
  EXPECT_LT(first, kFailWithin);
  // Marked down: the next calls do not wait again.
  EXPECT_LT(Timed([&] { ExpectUnavailable(cache_->Get("probe")); }), milliseconds(50));
  EXPECT_LT(Timed([&] {
              ExpectUnavailable(limits_->Check("k", {.rate_per_second = 1, .burst = 1}, kT0));
            }),
            milliseconds(50));
  // After down_for, one call tries again (and waits its timeout once more).
  std::this_thread::sleep_for(options_.down_for);
  EXPECT_LT(Timed([&] { ExpectUnavailable(cache_->Get("probe")); }), kFailWithin);

  server_.Resume();
  EXPECT_TRUE(WaitUntil([&] { return CacheWorks(); }, milliseconds(3000)));
}

TEST_F(RedisFaultsTest, RealtimeCountersFailWithinTheTimeoutWhileTheServerIsDownOrHung) {
  RedisRealtimeCounters counters(*client_);
  const core::Micros now = realtime::WallNow();
  const std::vector<core::ClickDelta> deltas = {
      realtime::InMinute("abc", realtime::MinuteOf(now), 2, realtime::Visitors(1, 2))};
  ASSERT_TRUE(counters.Add(deltas));

  server_.Pause();
  EXPECT_LT(Timed([&] { ExpectUnavailable(counters.Add(deltas)); }), kFailWithin);
  EXPECT_LT(Timed([&] { ExpectUnavailable(counters.Read("abc", now)); }), kFailWithin);
  server_.Resume();
  server_.Kill();
  for (int i = 0; i < 3; ++i) {
    EXPECT_LT(Timed([&] { ExpectUnavailable(counters.Add(deltas)); }), kFailWithin);
    EXPECT_LT(Timed([&] { ExpectUnavailable(counters.Read("abc", now)); }), kFailWithin);
  }

  server_.Start();  // empty
  EXPECT_TRUE(WaitUntil([&] { return counters.Add(deltas).has_value(); }, milliseconds(3000)));
  auto stats = counters.Read("abc", now);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(*stats, (ports::RealtimeStats{2, 2, 2}));
}

TEST_F(RedisFaultsTest, ConnectionsKilledByTheServerAreReplacedWithoutAnError) {
  // Several pooled connections, from concurrent callers.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) EXPECT_TRUE(cache_->Get("warm"));
    });
  }
  for (std::thread& thread : threads) thread.join();

  const auto killed = RunOn({"127.0.0.1", server_.port()}, {"CLIENT", "KILL", "TYPE", "normal"});
  EXPECT_GE(killed.integer, 1);
  std::this_thread::sleep_for(milliseconds(50));
  for (int i = 0; i < 10; ++i) {
    auto got = cache_->Get("warm");
    EXPECT_TRUE(got) << Describe(got);
  }
}

TEST_F(RedisFaultsTest, ScriptCacheFlushFallsBackToEval) {
  const core::GcraLimit limit{.rate_per_second = 1, .burst = 3};
  ASSERT_TRUE(limits_->Check("k", limit, kT0));
  RunOn({"127.0.0.1", server_.port()}, {"SCRIPT", "FLUSH"});
  auto second = limits_->Check("k", limit, kT0);
  ASSERT_TRUE(second) << Describe(second);
  EXPECT_TRUE(second->allowed);
  EXPECT_EQ(second->remaining, 1);
}

TEST_F(RedisFaultsTest, BusSignalsLostAfterARestartAndKeepsDelivering) {
  bus_ = std::make_unique<RedisInvalidationBus>(*client_);
  ASSERT_TRUE(bus_->Subscribe(inbox_.Handler()));
  ASSERT_TRUE(bus_->Publish("before"));
  ASSERT_TRUE(inbox_.WaitForCodes(1));

  server_.Kill();
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_FALSE(bus_->subscribed());
  server_.Start();
  ASSERT_TRUE(inbox_.WaitForLost(1, milliseconds(5000)));
  EXPECT_EQ(bus_->resubscriptions(), 1u);
  EXPECT_TRUE(WaitUntil([&] { return bus_->Publish("after").has_value(); }, milliseconds(3000)));
  ASSERT_TRUE(inbox_.WaitForCodes(2));
  EXPECT_EQ(inbox_.codes(), (std::vector<std::string>{"before", "after"}));
}

TEST_F(RedisFaultsTest, BusSubscribedWhileRedisIsDownStartsWhenItComesBack) {
  server_.Kill();
  bus_ = std::make_unique<RedisInvalidationBus>(*client_);
  const milliseconds waited = Timed([&] { ExpectUnavailable(bus_->Subscribe(inbox_.Handler())); });
  EXPECT_LT(waited, milliseconds(1000));
  server_.Start();
  ASSERT_TRUE(inbox_.WaitForLost(1, milliseconds(5000)));
  EXPECT_TRUE(WaitUntil([&] { return bus_->Publish("late").has_value(); }, milliseconds(3000)));
  ASSERT_TRUE(inbox_.WaitForCodes(1));
  EXPECT_EQ(inbox_.codes(), std::vector<std::string>{"late"});
}

TEST_F(RedisFaultsTest, HeartbeatNoticesAServerThatStoppedAnswering) {
  bus_ = std::make_unique<RedisInvalidationBus>(*client_, "kurz:invalidate", milliseconds(200));
  ASSERT_TRUE(bus_->Subscribe(inbox_.Handler()));
  server_.Pause();
  EXPECT_TRUE(WaitUntil([&] { return !bus_->subscribed(); }, milliseconds(3000)));
  server_.Resume();
  ASSERT_TRUE(inbox_.WaitForLost(1, milliseconds(5000)));
  EXPECT_TRUE(WaitUntil([&] { return bus_->Publish("resumed").has_value(); }, milliseconds(3000)));
  ASSERT_TRUE(inbox_.WaitForCodes(1));
}

}  // namespace
}  // namespace kurz::testing
