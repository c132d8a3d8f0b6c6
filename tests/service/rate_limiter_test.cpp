#include "service/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace kurz::service {
namespace {

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kStart = 3'600 * kSecond;  // any monotonic reading

constexpr RateLimiter::Key kAlice{0, 1};
constexpr RateLimiter::Key kBob{0, 2};

// How many requests of `key` are allowed at instant `now` before the first denial.
int AllowedInARow(RateLimiter& limiter, RateLimiter::Key key, std::int64_t now) {
  int allowed = 0;
  while (limiter.Check(key, now).allowed) {
    if (++allowed > 1'000'000) break;
  }
  return allowed;
}

TEST(RateLimiterTest, BurstIsAllowedThenDenied) {
  RateLimiter limiter(5);
  ASSERT_TRUE(limiter.enabled());
  EXPECT_EQ(limiter.limit(), 5);

  for (int i = 0; i < 5; ++i) {
    const core::GcraDecision d = limiter.Check(kAlice, kStart);
    ASSERT_TRUE(d.allowed) << "request " << i + 1 << " of the burst";
    EXPECT_EQ(d.remaining, 4 - i);
  }
  const core::GcraDecision denied = limiter.Check(kAlice, kStart);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_GT(denied.retry_after_us, 0);
  EXPECT_LE(denied.retry_after_us, kSecond / 5);
  // Denials do not use up capacity: still denied, still the same wait.
  EXPECT_EQ(limiter.Check(kAlice, kStart).retry_after_us, denied.retry_after_us);
}

TEST(RateLimiterTest, CapacityComesBackAtTheRate) {
  RateLimiter limiter(5);
  ASSERT_EQ(AllowedInARow(limiter, kAlice, kStart), 5);
  EXPECT_FALSE(limiter.Check(kAlice, kStart + kSecond / 5 - 1).allowed);
  EXPECT_TRUE(limiter.Check(kAlice, kStart + kSecond / 5).allowed) << "one token per 200 ms";
  EXPECT_FALSE(limiter.Check(kAlice, kStart + kSecond / 5).allowed);
  // After a quiet second the whole burst is back.
  EXPECT_EQ(AllowedInARow(limiter, kAlice, kStart + 2 * kSecond), 5);
}

TEST(RateLimiterTest, KeysAreIndependent) {
  RateLimiter limiter(3);
  ASSERT_EQ(AllowedInARow(limiter, kAlice, kStart), 3);
  EXPECT_EQ(AllowedInARow(limiter, kBob, kStart), 3) << "Alice's traffic must not limit Bob";
  EXPECT_EQ(AllowedInARow(limiter, RateLimiter::Key{1, 1}, kStart), 3) << "hi half matters too";
  EXPECT_FALSE(limiter.Check(kAlice, kStart).allowed);
}

TEST(RateLimiterTest, ManyKeysEachGetTheirOwnBurst) {
  RateLimiter limiter(2);
  for (std::uint64_t k = 0; k < 2000; ++k) {
    const RateLimiter::Key key{k * 7919, k};
    ASSERT_TRUE(limiter.Check(key, kStart).allowed) << k;
    ASSERT_TRUE(limiter.Check(key, kStart).allowed) << k;
    ASSERT_FALSE(limiter.Check(key, kStart).allowed) << k;
  }
}

TEST(RateLimiterTest, SweepingIdleKeysDoesNotResetALimitedOne) {
  // Keys whose bucket is full again are forgotten every 10 s or so; a key that is still limited
  // at that moment must keep its state.
  RateLimiter limiter(1);
  const auto touch_many = [&limiter](std::int64_t now) {
    for (std::uint64_t k = 1000; k < 1400; ++k) limiter.Check({k, k}, now);  // every shard
  };
  touch_many(kStart);                                            // every shard has swept at kStart
  ASSERT_TRUE(limiter.Check(kBob, kStart + 9'800'000).allowed);  // Bob limited until +10.8 s
  touch_many(kStart + 10'200'000);                               // every shard sweeps again
  EXPECT_FALSE(limiter.Check(kBob, kStart + 10'200'000).allowed);
  EXPECT_TRUE(limiter.Check(kBob, kStart + 10'800'000).allowed);
}

TEST(RateLimiterTest, RateZeroDisablesTheLimit) {
  RateLimiter limiter(0);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(limiter.Check(kAlice, kStart).allowed) << i;
}

TEST(RateLimiterTest, NegativeRateAlsoDisablesTheLimit) {
  RateLimiter limiter(-5);
  EXPECT_FALSE(limiter.enabled());
  EXPECT_TRUE(limiter.Check(kAlice, kStart).allowed);
}

}  // namespace
}  // namespace kurz::service
