#include "core/gcra.hpp"

#include <gtest/gtest.h>

namespace kurz::core {
namespace {

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kStart = 1'000 * kSecond;  // any monotonic reading

TEST(GcraTest, FreshKeyGetsTheWholeBurstAtOnce) {
  const GcraLimit limit{.rate_per_second = 1, .burst = 3};
  std::int64_t tat = 0;

  GcraDecision d = GcraCheck(limit, tat, kStart);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.new_tat, kStart + kSecond);
  EXPECT_EQ(d.remaining, 2);
  EXPECT_EQ(d.retry_after_us, 0);
  EXPECT_EQ(d.reset_after_us, kSecond);
  tat = d.new_tat;

  d = GcraCheck(limit, tat, kStart);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 1);
  EXPECT_EQ(d.reset_after_us, 2 * kSecond);
  tat = d.new_tat;

  d = GcraCheck(limit, tat, kStart);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.reset_after_us, 3 * kSecond);
  tat = d.new_tat;
  EXPECT_EQ(tat, kStart + 3 * kSecond);

  d = GcraCheck(limit, tat, kStart);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.new_tat, tat) << "a denied request must not change the state";
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.retry_after_us, kSecond);
  EXPECT_EQ(d.reset_after_us, 3 * kSecond);
}

TEST(GcraTest, RetryAfterShrinksAsTimePasses) {
  const GcraLimit limit{.rate_per_second = 1, .burst = 3};
  const std::int64_t tat = kStart + 3 * kSecond;  // burst spent at kStart

  GcraDecision d = GcraCheck(limit, tat, kStart + 250'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 750'000);
  EXPECT_EQ(d.reset_after_us, 2'750'000);

  d = GcraCheck(limit, tat, kStart + kSecond - 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 1);

  d = GcraCheck(limit, tat, kStart + kSecond);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.new_tat, kStart + 4 * kSecond);
  EXPECT_EQ(d.reset_after_us, 3 * kSecond);
}

TEST(GcraTest, RefillsOneRequestPerInterval) {
  const GcraLimit limit{.rate_per_second = 10, .burst = 5};  // T = 100 ms
  std::int64_t tat = 0;
  for (int i = 0; i < 5; ++i) {
    const GcraDecision d = GcraCheck(limit, tat, kStart);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 4 - i);
    tat = d.new_tat;
  }
  EXPECT_FALSE(GcraCheck(limit, tat, kStart).allowed);

  // After 250 ms two requests have dripped back, not three.
  const std::int64_t later = kStart + 250'000;
  GcraDecision d = GcraCheck(limit, tat, later);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 1);
  tat = d.new_tat;
  d = GcraCheck(limit, tat, later);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  tat = d.new_tat;
  d = GcraCheck(limit, tat, later);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 50'000);
}

TEST(GcraTest, SteadyRateAtTheLimitIsAlwaysAllowed) {
  const GcraLimit limit{.rate_per_second = 100, .burst = 1};  // T = 10 ms
  std::int64_t tat = 0;
  for (int i = 0; i < 1000; ++i) {
    const GcraDecision d = GcraCheck(limit, tat, kStart + i * 10'000);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 0);
    tat = d.new_tat;
  }
  // Faster than the rate: the next request 5 ms early is denied and told to wait those 5 ms.
  const GcraDecision d = GcraCheck(limit, tat, kStart + 1000 * 10'000 - 5'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 5'000);
}

TEST(GcraTest, IdleKeyIsFullAgainAndDoesNotBankExtraBurst) {
  const GcraLimit limit{.rate_per_second = 2, .burst = 4};
  const std::int64_t old_tat = kStart - 3600 * kSecond;
  const GcraDecision d = GcraCheck(limit, old_tat, kStart);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 3);
  EXPECT_EQ(d.new_tat, kStart + 500'000);
}

TEST(GcraTest, BurstOfOneAllowsOneThenDenies) {
  const GcraLimit limit{.rate_per_second = 1, .burst = 1};
  const GcraDecision first = GcraCheck(limit, 0, kStart);
  ASSERT_TRUE(first.allowed);
  EXPECT_EQ(first.remaining, 0);
  const GcraDecision second = GcraCheck(limit, first.new_tat, kStart);
  EXPECT_FALSE(second.allowed);
  EXPECT_EQ(second.retry_after_us, kSecond);
  EXPECT_EQ(second.reset_after_us, kSecond);
}

TEST(GcraTest, CountsExactlyRateTimesSecondsPlusBurstOverAWindow) {
  // 100 requests per second with burst 100, hammered every millisecond for 10 seconds:
  // the first instant spends the burst, then exactly one per 10 ms.
  const GcraLimit limit{.rate_per_second = 100, .burst = 100};
  std::int64_t tat = 0;
  int allowed = 0;
  for (std::int64_t t = 0; t < 10 * kSecond; t += 1'000) {
    for (int k = 0; k < 3; ++k) {
      const GcraDecision d = GcraCheck(limit, tat, kStart + t);
      if (d.allowed) {
        ++allowed;
        tat = d.new_tat;
      } else {
        EXPECT_GT(d.retry_after_us, 0);
      }
    }
  }
  EXPECT_EQ(allowed, 100 + 999);
}

TEST(GcraTest, RateThatDoesNotDivideASecondStillGivesTheBurst) {
  const GcraLimit limit{.rate_per_second = 3, .burst = 3};  // T = 333,333 us
  std::int64_t tat = 0;
  for (int i = 0; i < 3; ++i) {
    const GcraDecision d = GcraCheck(limit, tat, kStart);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 2 - i);
    tat = d.new_tat;
  }
  const GcraDecision d = GcraCheck(limit, tat, kStart);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 333'333);
}

}  // namespace
}  // namespace kurz::core
