#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/attempt_counter.hpp"

// The AttemptCounter contract. Instantiate with a backend type that has Counter(),
// OtherCounter() (two instances' views of one store; they may be the same object), Now() and
// Sleep(micros): a store may keep windows by its own clock (Redis' expiry), so the test moves
// time with Sleep, which a backend with a fake clock may do without sleeping.
namespace kurz::testing {

template <class Backend>
class AttemptCounterContract : public ::testing::Test {
 protected:
  static constexpr core::Micros kWindow = 60 * core::kMicrosPerSecond;

  ports::AttemptCounter& counter() { return backend_.Counter(); }

  std::int64_t Add(std::string_view key, core::Micros window = kWindow) {
    auto got = counter().Add(key, window, backend_.Now());
    EXPECT_TRUE(got) << Describe(got);
    return got ? got->count : -1;
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(AttemptCounterContract);

TYPED_TEST_P(AttemptCounterContract, CountsAdditionsPerKey) {
  for (int i = 1; i <= 7; ++i) EXPECT_EQ(this->Add("a"), i);
  EXPECT_EQ(this->Add("b"), 1);
  EXPECT_EQ(this->Add("a"), 8);
}

TYPED_TEST_P(AttemptCounterContract, TellsWhenTheWindowCloses) {
  auto first = this->counter().Add("k", this->kWindow, this->backend_.Now());
  ASSERT_TRUE(first) << Describe(first);
  EXPECT_LE(first->resets_in, this->kWindow);
  EXPECT_GT(first->resets_in, this->kWindow - 5 * core::kMicrosPerSecond);
  this->backend_.Sleep(200'000);
  // Later additions do not extend the window: the time left goes down.
  auto second = this->counter().Add("k", this->kWindow, this->backend_.Now());
  ASSERT_TRUE(second) << Describe(second);
  EXPECT_EQ(second->count, 2);
  EXPECT_LT(second->resets_in, first->resets_in);
  EXPECT_GT(second->resets_in, 0);
}

TYPED_TEST_P(AttemptCounterContract, ACountStartsAgainWhenItsWindowCloses) {
  constexpr core::Micros kShort = 300'000;
  EXPECT_EQ(this->Add("k", kShort), 1);
  EXPECT_EQ(this->Add("k", kShort), 2);
  EXPECT_EQ(this->Add("k", kShort), 3);
  this->backend_.Sleep(kShort + 200'000);
  auto next = this->counter().Add("k", kShort, this->backend_.Now());
  ASSERT_TRUE(next) << Describe(next);
  EXPECT_EQ(next->count, 1);
  EXPECT_GT(next->resets_in, kShort / 2);  // a new window of its own
}

TYPED_TEST_P(AttemptCounterContract, TakeBackUndoesOneAddition) {
  EXPECT_EQ(this->Add("k"), 1);
  EXPECT_EQ(this->Add("k"), 2);
  ASSERT_TRUE(this->counter().TakeBack("k", this->backend_.Now()));
  EXPECT_EQ(this->Add("k"), 2);
  ASSERT_TRUE(this->counter().TakeBack("k", this->backend_.Now()));
  ASSERT_TRUE(this->counter().TakeBack("k", this->backend_.Now()));
  EXPECT_EQ(this->Add("k"), 1);
}

TYPED_TEST_P(AttemptCounterContract, TakeBackOfNothingChangesNothing) {
  ASSERT_TRUE(this->counter().TakeBack("never", this->backend_.Now()));
  ASSERT_TRUE(this->counter().TakeBack("never", this->backend_.Now()));
  EXPECT_EQ(this->Add("never"), 1);  // not -1: no count below zero was kept
  EXPECT_EQ(this->Add("never"), 2);
}

TYPED_TEST_P(AttemptCounterContract, BothInstancesSeeOneCount) {
  ports::AttemptCounter& other = this->backend_.OtherCounter();
  EXPECT_EQ(this->Add("shared"), 1);
  auto got = other.Add("shared", this->kWindow, this->backend_.Now());
  ASSERT_TRUE(got) << Describe(got);
  EXPECT_EQ(got->count, 2);
  ASSERT_TRUE(other.TakeBack("shared", this->backend_.Now()));
  EXPECT_EQ(this->Add("shared"), 2);
}

TYPED_TEST_P(AttemptCounterContract, ConcurrentAdditionsAreEachCountedOnce) {
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ports::AttemptCounter& c = t % 2 == 0 ? this->counter() : this->backend_.OtherCounter();
      for (int i = 0; i < kEach; ++i) {
        if (!c.Add("hot", this->kWindow, this->backend_.Now())) failures.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(this->Add("hot"), kThreads * kEach + 1);
}

TYPED_TEST_P(AttemptCounterContract, KeysMayHoldAnyText) {
  const std::string keys[] = {"pw:2001:db8::1 abc", "pw:10.0.0.1 a{b}c", "pw:\xC3\xA4 \n\t x"};
  for (const std::string& key : keys) EXPECT_EQ(this->Add(key), 1) << key;
  for (const std::string& key : keys) EXPECT_EQ(this->Add(key), 2) << key;
}

REGISTER_TYPED_TEST_SUITE_P(AttemptCounterContract, CountsAdditionsPerKey, TellsWhenTheWindowCloses,
                            ACountStartsAgainWhenItsWindowCloses, TakeBackUndoesOneAddition,
                            TakeBackOfNothingChangesNothing, BothInstancesSeeOneCount,
                            ConcurrentAdditionsAreEachCountedOnce, KeysMayHoldAnyText);

}  // namespace kurz::testing
