// The password failure limit on a fake clock: more than 5 wrong tries per client IP and link in a
// window of a minute are refused until the window closes; right tries do not count; the in-process
// count stays bounded; a shared counter that fails is replaced by the local one, and counted.
#include "service/password_guard.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/attempt_counter_contract.hpp"
#include "ports/clock.hpp"

namespace kurz::service::fakes {

// A clock the test moves. (Not tests/service/fakes.hpp's: this binary needs none of its stores.)
class FakeClock final : public ports::Clock {
 public:
  core::Micros Now() const override { return now_.load(std::memory_order_relaxed); }
  void Advance(core::Micros by) { now_.fetch_add(by, std::memory_order_relaxed); }

 private:
  std::atomic<core::Micros> now_{1'795'000'000LL * core::kMicrosPerSecond};
};

}  // namespace kurz::service::fakes

namespace kurz::testing {
namespace {

// The in-process counter under the AttemptCounter contract, its windows on a fake clock.
struct LocalAttempts {
  ports::AttemptCounter& Counter() { return counter; }
  ports::AttemptCounter& OtherCounter() { return counter; }
  core::Micros Now() const { return clock.Now(); }
  void Sleep(core::Micros micros) { clock.Advance(micros); }

  service::fakes::FakeClock clock;
  service::LocalAttemptCounter counter;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Local, AttemptCounterContract, LocalAttempts);

}  // namespace kurz::testing

namespace kurz::service {
namespace {

using fakes::FakeClock;
constexpr core::Micros kSecond = core::kMicrosPerSecond;

// A shared counter that is down (or comes back), counting the calls it got.
class SwitchableCounter final : public ports::AttemptCounter {
 public:
  Result<ports::AttemptWindow> Add(std::string_view key, core::Micros window,
                                   core::Micros now) override {
    ++adds;
    if (down) return core::Fail(core::ErrorCode::kUnavailable, "redis: connection refused");
    return inner.Add(key, window, now);
  }
  Result<void> TakeBack(std::string_view key, core::Micros now) override {
    ++take_backs;
    if (down) return core::Fail(core::ErrorCode::kUnavailable, "redis: connection refused");
    return inner.TakeBack(key, now);
  }

  std::atomic<bool> down{false};
  std::atomic<int> adds{0};
  std::atomic<int> take_backs{0};
  LocalAttemptCounter inner;
};

TEST(PasswordGuard, TheSixthWrongTryInAMinuteIsRefusedUntilTheMinuteHasPassed) {
  FakeClock clock;
  PasswordGuard guard(clock, nullptr);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(guard.Begin("203.0.113.7", "abc").allowed) << "wrong try " << i + 1;
    clock.Advance(2 * kSecond);
  }
  // 10 s after the first try: refused, for the 50 s left of its minute.
  const auto refused = guard.Begin("203.0.113.7", "abc");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 50 * kSecond);
  clock.Advance(30 * kSecond);
  const auto still = guard.Begin("203.0.113.7", "abc");
  EXPECT_FALSE(still.allowed);
  EXPECT_EQ(still.retry_after, 20 * kSecond);  // refused tries do not move the window
  clock.Advance(20 * kSecond);
  EXPECT_TRUE(guard.Begin("203.0.113.7", "abc").allowed);  // a new minute, five new tries
}

TEST(PasswordGuard, AWindowIsAMinuteFromItsFirstTry) {
  FakeClock clock;
  PasswordGuard guard(clock, nullptr);
  EXPECT_TRUE(guard.Begin("ip", "abc").allowed);
  clock.Advance(59 * kSecond);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(guard.Begin("ip", "abc").allowed);
  EXPECT_FALSE(guard.Begin("ip", "abc").allowed);
  clock.Advance(1 * kSecond);  // 60 s after the first: that window is over
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(guard.Begin("ip", "abc").allowed);
  EXPECT_FALSE(guard.Begin("ip", "abc").allowed);
}

TEST(PasswordGuard, RightTriesDoNotCount) {
  FakeClock clock;
  PasswordGuard guard(clock, nullptr);
  for (int i = 0; i < 20; ++i) {
    const auto attempt = guard.Begin("ip", "abc");
    ASSERT_TRUE(attempt.allowed) << "right try " << i + 1;
    guard.Forgive(attempt, "ip", "abc");
  }
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(guard.Begin("ip", "abc").allowed);
  const auto right = guard.Begin("ip", "abc");  // the fifth try, and right
  ASSERT_TRUE(right.allowed);
  guard.Forgive(right, "ip", "abc");
  EXPECT_TRUE(guard.Begin("ip", "abc").allowed);  // the fifth wrong one
  EXPECT_FALSE(guard.Begin("ip", "abc").allowed);
}

TEST(PasswordGuard, ARefusedTryCannotBeForgivenIntoMoreTries) {
  FakeClock clock;
  PasswordGuard guard(clock, nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(guard.Begin("ip", "abc").allowed);
  for (int i = 0; i < 3; ++i) {
    const auto refused = guard.Begin("ip", "abc");
    ASSERT_FALSE(refused.allowed);
    guard.Forgive(refused, "ip", "abc");  // a careless caller: must change nothing
  }
  EXPECT_FALSE(guard.Begin("ip", "abc").allowed);
}

TEST(PasswordGuard, CountsPerClientAndPerLink) {
  FakeClock clock;
  PasswordGuard guard(clock, nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(guard.Begin("2001:db8::1", "abc").allowed);
  EXPECT_FALSE(guard.Begin("2001:db8::1", "abc").allowed);
  EXPECT_TRUE(guard.Begin("2001:db8::2", "abc").allowed);
  EXPECT_TRUE(guard.Begin("2001:db8::1", "abd").allowed);
  // A pair that would run together with another one if it were simply concatenated.
  EXPECT_TRUE(guard.Begin("2001:db8::1a", "bc").allowed);
}

TEST(PasswordGuard, TriesVerifiedInParallelCannotPassTheLimitTogether) {
  FakeClock clock;
  PasswordGuard guard(clock, nullptr);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (guard.Begin("ip", "abc").allowed) allowed.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 5);
}

TEST(PasswordGuard, TheLocalCountStaysBoundedUnderAFloodOfClients) {
  FakeClock clock;
  PasswordGuard guard(clock, nullptr, {.max_local_keys = 256});
  LocalAttemptCounter counter(256);
  for (int i = 0; i < 20'000; ++i) {
    const std::string ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    EXPECT_TRUE(guard.Begin(ip, "abc").allowed);
    ASSERT_TRUE(counter.Add(ip, 60 * kSecond, clock.Now()));
  }
  EXPECT_LE(counter.size(), 256U);
  EXPECT_GT(counter.size(), 128U);  // bounded, not emptied
}

TEST(LocalAttemptCounter, WhenFullTheNewestKeysStayWithTheirCounts) {
  FakeClock clock;
  LocalAttemptCounter counter(16);  // one key per shard
  // Fill to the bound with keys whose windows close at different times, then let some close.
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < 64; ++i) keys.push_back("k" + std::to_string(i));
  for (const std::string& key : keys) {
    ASSERT_TRUE(counter.Add(key, 60 * kSecond, clock.Now()));
    ASSERT_TRUE(counter.Add(key, 60 * kSecond, clock.Now()));
    clock.Advance(1 * kSecond);
  }
  EXPECT_LE(counter.size(), 16U);
  // The key added last is kept with its count: a new key evicted an older one, not it.
  auto last = counter.Add(keys.back(), 60 * kSecond, clock.Now());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->count, 3);
}

TEST(PasswordGuard, UsesTheSharedCounterWhenItAnswers) {
  FakeClock clock;
  SwitchableCounter shared;
  PasswordGuard a(clock, &shared);
  PasswordGuard b(clock, &shared);  // another instance on the same store
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(a.Begin("ip", "abc").shared);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(b.Begin("ip", "abc").allowed);
  EXPECT_FALSE(a.Begin("ip", "abc").allowed);
  EXPECT_FALSE(b.Begin("ip", "abc").allowed);
  EXPECT_EQ(a.fallbacks() + b.fallbacks(), 0U);
}

TEST(PasswordGuard, FallsBackToTheLocalCountWhenTheSharedOneFailsAndCountsIt) {
  FakeClock clock;
  SwitchableCounter shared;
  shared.down = true;
  PasswordGuard guard(clock, &shared);
  for (int i = 0; i < 5; ++i) {
    const auto attempt = guard.Begin("ip", "abc");
    EXPECT_TRUE(attempt.allowed);
    EXPECT_FALSE(attempt.shared);
  }
  EXPECT_FALSE(guard.Begin("ip", "abc").allowed);  // the limit holds while Redis is down
  EXPECT_EQ(guard.fallbacks(), 6U);
  EXPECT_EQ(shared.adds.load(), 6);  // it was asked every time: it may be back any moment
}

TEST(PasswordGuard, AForgivenTryGoesBackWhereItWasCounted) {
  FakeClock clock;
  SwitchableCounter shared;
  PasswordGuard guard(clock, &shared);
  shared.down = true;
  const auto local = guard.Begin("ip", "abc");
  shared.down = false;
  guard.Forgive(local, "ip", "abc");
  EXPECT_EQ(shared.take_backs.load(), 0);  // it was never counted there
  const auto counted = guard.Begin("ip", "abc");
  ASSERT_TRUE(counted.shared);
  guard.Forgive(counted, "ip", "abc");
  EXPECT_EQ(shared.take_backs.load(), 1);
  // Both forgiven: five wrong tries left, in the shared count.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(guard.Begin("ip", "abc").allowed);
  EXPECT_FALSE(guard.Begin("ip", "abc").allowed);
}

}  // namespace
}  // namespace kurz::service
