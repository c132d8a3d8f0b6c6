#pragma once

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/settings_store.hpp"

// The SettingsStore contract. Instantiate with a backend type (see backends.hpp).
namespace kurz::testing {

template <class Backend>
class SettingsStoreContract : public ::testing::Test {
 protected:
  ports::SettingsStore& settings() { return backend_.Settings(); }
  Backend backend_;
};

TYPED_TEST_SUITE_P(SettingsStoreContract);

TYPED_TEST_P(SettingsStoreContract, FirstStoredValueWins) {
  auto first = this->settings().GetOrInsert("scrambler_key", "first");
  ASSERT_TRUE(first) << Describe(first);
  EXPECT_EQ(*first, "first");
  auto second = this->settings().GetOrInsert("scrambler_key", "second");
  ASSERT_TRUE(second) << Describe(second);
  EXPECT_EQ(*second, "first");
}

TYPED_TEST_P(SettingsStoreContract, NamesAreIndependentAndValuesKeptAsGiven) {
  const std::string binary("a\0b\xff", 4);
  EXPECT_EQ(*this->settings().GetOrInsert("one", "1"), "1");
  EXPECT_EQ(*this->settings().GetOrInsert("two", binary), binary);
  EXPECT_EQ(*this->settings().GetOrInsert("empty", ""), "");
  EXPECT_EQ(*this->settings().GetOrInsert("empty", "x"), "");
  EXPECT_EQ(*this->settings().GetOrInsert("one", "x"), "1");
}

TYPED_TEST_P(SettingsStoreContract, ConcurrentCallersAllGetTheSameValue) {
  constexpr int kThreads = 16;
  std::vector<std::string> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto value = this->settings().GetOrInsert("hash_secret", Numbered("value-", t));
      EXPECT_TRUE(value) << Describe(value);
      if (value) seen[t] = *value;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& value : seen) EXPECT_EQ(value, seen.front());
  EXPECT_EQ(*this->settings().GetOrInsert("hash_secret", "late"), seen.front());
}

REGISTER_TYPED_TEST_SUITE_P(SettingsStoreContract, FirstStoredValueWins,
                            NamesAreIndependentAndValuesKeptAsGiven,
                            ConcurrentCallersAllGetTheSameValue);

}  // namespace kurz::testing
