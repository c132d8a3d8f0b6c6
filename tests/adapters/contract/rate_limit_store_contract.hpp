#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "core/gcra.hpp"
#include "ports/rate_limit_store.hpp"

// The RateLimitStore contract: the same decisions as core::GcraCheck on a state kept by the
// store. Instantiate with a backend type that has Limits() and OtherLimits(): two instances'
// views of one store (they may be the same object).
//
// Instants step forward from kT0 by fake amounts, but stay near real time in their spacing: a
// store may drop a key once its bucket is full again by its own clock.
namespace kurz::testing {

inline void ExpectSameDecision(const core::GcraDecision& got, const core::GcraDecision& want,
                               int step) {
  EXPECT_EQ(got.allowed, want.allowed) << "step " << step;
  EXPECT_EQ(got.new_tat, want.new_tat) << "step " << step;
  EXPECT_EQ(got.remaining, want.remaining) << "step " << step;
  EXPECT_EQ(got.retry_after_us, want.retry_after_us) << "step " << step;
  EXPECT_EQ(got.reset_after_us, want.reset_after_us) << "step " << step;
}

template <class Backend>
class RateLimitStoreContract : public ::testing::Test {
 protected:
  ports::RateLimitStore& limits() { return backend_.Limits(); }

  // Checks key at each instant and compares with core::GcraCheck on a local TAT.
  void ExpectLikeCore(std::string_view key, const core::GcraLimit& limit,
                      const std::vector<core::Micros>& instants) {
    std::int64_t tat = 0;
    for (std::size_t i = 0; i < instants.size(); ++i) {
      const core::GcraDecision want = core::GcraCheck(limit, tat, instants[i]);
      if (want.allowed) tat = want.new_tat;
      auto got = limits().Check(key, limit, instants[i]);
      ASSERT_TRUE(got) << Describe(got);
      ExpectSameDecision(*got, want, static_cast<int>(i));
    }
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(RateLimitStoreContract);

TYPED_TEST_P(RateLimitStoreContract, DecisionsMatchCoreGcraStepByStep) {
  const core::GcraLimit limit{.rate_per_second = 2, .burst = 5};
  std::vector<core::Micros> instants;
  core::Micros now = kT0 + 123;  // odd microseconds: the store must not round
  for (int i = 0; i < 8; ++i) instants.push_back(now);  // a burst, then denials
  now += 250'001;
  instants.push_back(now);
  now += 249'999;
  instants.push_back(now);  // one interval after the burst: one more allowed
  instants.push_back(now);
  for (int i = 0; i < 6; ++i) {
    now += 100'000 + i * 77'777;
    instants.push_back(now);
  }
  now += 10 * core::kMicrosPerSecond;  // the bucket is full again
  for (int i = 0; i < 7; ++i) instants.push_back(now);
  this->ExpectLikeCore("client-a", limit, instants);
}

TYPED_TEST_P(RateLimitStoreContract, BurstThenDenyThenOneMoreAfterAnInterval) {
  const core::GcraLimit limit{.rate_per_second = 1, .burst = 3};
  for (int i = 0; i < 3; ++i) {
    auto allowed = this->limits().Check("k", limit, kT0);
    ASSERT_TRUE(allowed) << Describe(allowed);
    EXPECT_TRUE(allowed->allowed);
    EXPECT_EQ(allowed->remaining, 2 - i);
  }
  auto denied = this->limits().Check("k", limit, kT0 + 10);
  ASSERT_TRUE(denied) << Describe(denied);
  EXPECT_FALSE(denied->allowed);
  EXPECT_EQ(denied->remaining, 0);
  EXPECT_EQ(denied->retry_after_us, core::kMicrosPerSecond - 10);
  EXPECT_EQ(denied->reset_after_us, 3 * core::kMicrosPerSecond - 10);
  auto later = this->limits().Check("k", limit, kT0 + core::kMicrosPerSecond);
  ASSERT_TRUE(later) << Describe(later);
  EXPECT_TRUE(later->allowed);
  EXPECT_EQ(later->remaining, 0);
}

TYPED_TEST_P(RateLimitStoreContract, KeysAreIndependent) {
  const core::GcraLimit limit{.rate_per_second = 1, .burst = 1};
  EXPECT_TRUE(this->limits().Check("key-one", limit, kT0)->allowed);
  EXPECT_FALSE(this->limits().Check("key-one", limit, kT0)->allowed);
  EXPECT_TRUE(this->limits().Check("key-two", limit, kT0)->allowed);
  EXPECT_TRUE(this->limits().Check("KEY-ONE", limit, kT0)->allowed);
}

TYPED_TEST_P(RateLimitStoreContract, OutOfContractLimitsAreClampedLikeCore) {
  this->ExpectLikeCore("zero", {.rate_per_second = 0, .burst = 0}, {kT0, kT0, kT0 + 999'999});
  this->ExpectLikeCore("huge", {.rate_per_second = 5'000'000, .burst = 9'000'000},
                       {kT0, kT0, kT0 + 1, kT0 + 1});
  this->ExpectLikeCore("negative", {.rate_per_second = -3, .burst = -1}, {kT0, kT0 + 1});
}

TYPED_TEST_P(RateLimitStoreContract, AnotherInstanceSharesTheLimit) {
  const core::GcraLimit limit{.rate_per_second = 1, .burst = 4};
  ports::RateLimitStore& other = this->backend_.OtherLimits();
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    ports::RateLimitStore& store = i % 2 == 0 ? this->limits() : other;
    auto decision = store.Check("shared", limit, kT0);
    ASSERT_TRUE(decision) << Describe(decision);
    if (decision->allowed) ++allowed;
  }
  EXPECT_EQ(allowed, 4);
}

TYPED_TEST_P(RateLimitStoreContract, ConcurrentChecksAllowExactlyTheBurst) {
  const core::GcraLimit limit{.rate_per_second = 1, .burst = 50};
  constexpr int kThreads = 8;
  constexpr int kChecks = 25;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ports::RateLimitStore& store = t % 2 == 0 ? this->limits() : this->backend_.OtherLimits();
      for (int i = 0; i < kChecks; ++i) {
        auto decision = store.Check("hot", limit, kT0);
        EXPECT_TRUE(decision) << Describe(decision);
        if (decision && decision->allowed) allowed.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 50);
}

REGISTER_TYPED_TEST_SUITE_P(RateLimitStoreContract, DecisionsMatchCoreGcraStepByStep,
                            BurstThenDenyThenOneMoreAfterAnInterval, KeysAreIndependent,
                            OutOfContractLimitsAreClampedLikeCore, AnotherInstanceSharesTheLimit,
                            ConcurrentChecksAllowExactlyTheBurst);

}  // namespace kurz::testing
