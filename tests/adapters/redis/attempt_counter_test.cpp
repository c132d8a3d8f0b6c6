// The AttemptCounter contract against real Redis (one server and the 3-master cluster), and the
// password failure limit (service::PasswordGuard) over it as two instances would run it: the
// limit holds across instances, and an instance whose Redis is gone counts on its own.
#include "adapters/redis/attempt_counter.hpp"

#include <chrono>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "adapters/contract/attempt_counter_contract.hpp"
#include "adapters/redis/redis_test_support.hpp"
#include "service/password_guard.hpp"

namespace kurz::testing {
namespace {

class WallClock final : public ports::Clock {
 public:
  core::Micros Now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Two instances' clients on the same server(s) and key prefix.
class RedisAttempts {
 public:
  explicit RedisAttempts(const std::string& url) : url_(url), prefix_(UniquePrefix()) {
    for (int i = 0; i < 2; ++i) {
      client_[i] = std::make_unique<adapters::redis::RedisClient>(OptionsFor(url));
      counter_[i] = std::make_unique<adapters::redis::RedisAttemptCounter>(*client_[i], prefix_);
    }
  }
  ~RedisAttempts() { DeleteKeysWithPrefix(url_, prefix_); }

  ports::AttemptCounter& Counter() { return *counter_[0]; }
  ports::AttemptCounter& OtherCounter() { return *counter_[1]; }
  core::Micros Now() const { return clock_.Now(); }
  void Sleep(core::Micros micros) {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
  const ports::Clock& clock() const { return clock_; }

 private:
  std::string url_;
  std::string prefix_;
  WallClock clock_;
  std::unique_ptr<adapters::redis::RedisClient> client_[2];
  std::unique_ptr<adapters::redis::RedisAttemptCounter> counter_[2];
};

struct RedisSingleAttempts : RedisAttempts {
  RedisSingleAttempts() : RedisAttempts(SingleRedisUrl()) {}
};
struct RedisClusterAttempts : RedisAttempts {
  RedisClusterAttempts() : RedisAttempts(ClusterRedisUrl()) {}
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, AttemptCounterContract, RedisSingleAttempts);
INSTANTIATE_TYPED_TEST_SUITE_P(RedisCluster, AttemptCounterContract, RedisClusterAttempts);

namespace {

TEST(PasswordGuardOverRedis, FiveWrongTriesSpreadOverTwoInstancesThenTheSixthIsRefusedOnBoth) {
  RedisSingleAttempts redis;
  service::PasswordGuard a(redis.clock(), &redis.Counter());
  service::PasswordGuard b(redis.clock(), &redis.OtherCounter());
  for (int i = 0; i < 5; ++i) {
    service::PasswordGuard& guard = i % 2 == 0 ? a : b;
    const auto attempt = guard.Begin("203.0.113.7", "abc");
    EXPECT_TRUE(attempt.allowed) << "try " << i + 1;
    EXPECT_TRUE(attempt.shared);
  }
  for (service::PasswordGuard* guard : {&a, &b}) {
    const auto refused = guard->Begin("203.0.113.7", "abc");
    EXPECT_FALSE(refused.allowed);
    EXPECT_GT(refused.retry_after, 50 * core::kMicrosPerSecond);
    EXPECT_LE(refused.retry_after, 60 * core::kMicrosPerSecond);
  }
  // Another client, and another link, are not held back.
  EXPECT_TRUE(a.Begin("203.0.113.8", "abc").allowed);
  EXPECT_TRUE(b.Begin("203.0.113.7", "abd").allowed);
  EXPECT_EQ(a.fallbacks() + b.fallbacks(), 0U);
}

TEST(PasswordGuardOverRedis, RightTriesForgivenOnOneInstanceDoNotCountOnTheOther) {
  RedisSingleAttempts redis;
  service::PasswordGuard a(redis.clock(), &redis.Counter());
  service::PasswordGuard b(redis.clock(), &redis.OtherCounter());
  for (int i = 0; i < 10; ++i) {
    const auto attempt = a.Begin("198.51.100.1", "xyz");
    ASSERT_TRUE(attempt.allowed) << "right try " << i + 1;
    a.Forgive(attempt, "198.51.100.1", "xyz");
  }
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.Begin("198.51.100.1", "xyz").allowed);
  EXPECT_FALSE(b.Begin("198.51.100.1", "xyz").allowed);
}

TEST(PasswordGuardOverRedis, WithRedisGoneEachInstanceCountsOnItsOwnAndSaysSo) {
  // A port nobody listens on: every call is unavailable at once (connection refused).
  adapters::redis::RedisOptions options = OptionsFor("redis://127.0.0.1:1");
  options.timeout = std::chrono::milliseconds(50);
  adapters::redis::RedisClient client(options);
  adapters::redis::RedisAttemptCounter down(client, UniquePrefix());
  WallClock clock;
  service::PasswordGuard guard(clock, &down);
  for (int i = 0; i < 5; ++i) {
    const auto attempt = guard.Begin("192.0.2.1", "abc");
    EXPECT_TRUE(attempt.allowed) << "try " << i + 1;
    EXPECT_FALSE(attempt.shared);
  }
  const auto refused = guard.Begin("192.0.2.1", "abc");
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, 50 * core::kMicrosPerSecond);
  EXPECT_EQ(guard.fallbacks(), 6U);
}

}  // namespace
}  // namespace kurz::testing
