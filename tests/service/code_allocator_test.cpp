#include "service/code_allocator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "adapters/memory/link_store.hpp"
#include "core/base62.hpp"
#include "service/fakes.hpp"

namespace kurz::service {
namespace {

using fakes::Describe;
using fakes::ScriptedLinkStore;

const core::CodeScrambler::Key kKey = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL,
                                       0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};

bool IsBase62(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

// Draws n codes, failing the test on any error or malformed code.
std::vector<std::string> Draw(CodeAllocator& codes, int n) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto code = codes.Next();
    EXPECT_TRUE(code) << Describe(code);
    if (!code) break;
    EXPECT_EQ(code->size(), core::kGeneratedCodeLength) << *code;
    EXPECT_TRUE(IsBase62(*code)) << *code;
    out.push_back(std::move(*code));
  }
  return out;
}

TEST(CodeAllocatorTest, CodesAreSevenBase62Characters) {
  adapters::memory::MemoryLinkStore store;
  CodeAllocator codes(store, core::CodeScrambler(kKey), 1000);
  const auto drawn = Draw(codes, 1000);
  ASSERT_EQ(drawn.size(), 1000u);
  // Generated codes are never reserved words nor anything the redirect path would reject.
  for (const std::string& c : drawn) EXPECT_TRUE(core::LooksLikeCode(c)) << c;
}

TEST(CodeAllocatorTest, NoDuplicatesOverAHundredThousandCodes) {
  adapters::memory::MemoryLinkStore store;
  CodeAllocator codes(store, core::CodeScrambler(kKey), 1000);
  const auto drawn = Draw(codes, 100'000);
  ASSERT_EQ(drawn.size(), 100'000u);
  const std::unordered_set<std::string> unique(drawn.begin(), drawn.end());
  EXPECT_EQ(unique.size(), drawn.size());
}

TEST(CodeAllocatorTest, NoDuplicatesAcrossARestartOnTheSameStore) {
  adapters::memory::MemoryLinkStore store;
  std::vector<std::string> all;
  {
    CodeAllocator first(store, core::CodeScrambler(kKey), 1000);
    auto drawn = Draw(first, 50'500);  // leaves most of a leased block unused
    all.insert(all.end(), drawn.begin(), drawn.end());
  }
  {
    CodeAllocator after_restart(store, core::CodeScrambler(kKey), 1000);
    auto drawn = Draw(after_restart, 50'000);
    all.insert(all.end(), drawn.begin(), drawn.end());
  }
  ASSERT_EQ(all.size(), 100'500u);
  const std::unordered_set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size());
}

TEST(CodeAllocatorTest, TwoLiveAllocatorsOnOneStoreNeverCollide) {
  adapters::memory::MemoryLinkStore store;
  CodeAllocator a(store, core::CodeScrambler(kKey), 100);
  CodeAllocator b(store, core::CodeScrambler(kKey), 100);
  std::vector<std::string> all;
  for (int i = 0; i < 20'000; ++i) {
    auto x = (i % 3 == 0 ? b : a).Next();
    ASSERT_TRUE(x) << Describe(x);
    all.push_back(std::move(*x));
  }
  const std::unordered_set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size());
}

TEST(CodeAllocatorTest, ConcurrentCallersGetDistinctCodes) {
  adapters::memory::MemoryLinkStore store;
  CodeAllocator codes(store, core::CodeScrambler(kKey), 64);
  std::mutex mu;
  std::vector<std::string> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 5000; ++i) {
        auto c = codes.Next();
        if (c) mine.push_back(std::move(*c));
      }
      std::lock_guard lock(mu);
      all.insert(all.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(all.size(), 20'000u);
  const std::unordered_set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size());
}

TEST(CodeAllocatorTest, ConsecutiveCodesAreNotNeighbours) {
  adapters::memory::MemoryLinkStore store;
  CodeAllocator codes(store, core::CodeScrambler(kKey), 1000);
  const auto drawn = Draw(codes, 100);
  ASSERT_EQ(drawn.size(), 100u);
  int neighbours = 0;
  int same_prefix = 0;
  for (std::size_t i = 1; i < drawn.size(); ++i) {
    const auto prev = core::DecodeBase62(drawn[i - 1]);
    const auto next = core::DecodeBase62(drawn[i]);
    ASSERT_TRUE(prev && next);
    if (*next == *prev + 1) ++neighbours;
    if (drawn[i].substr(0, 4) == drawn[i - 1].substr(0, 4)) ++same_prefix;
  }
  EXPECT_EQ(neighbours, 0) << "codes must not be guessable from the previous one";
  EXPECT_LE(same_prefix, 2);
}

TEST(CodeAllocatorTest, LeasesOneBlockPerBlockSizeCodes) {
  adapters::memory::MemoryLinkStore inner;
  ScriptedLinkStore store(inner);
  CodeAllocator codes(store, core::CodeScrambler(kKey), 1000);
  EXPECT_EQ(store.leases(), 0) << "leasing is lazy";
  Draw(codes, 1);
  EXPECT_EQ(store.leases(), 1);
  Draw(codes, 999);
  EXPECT_EQ(store.leases(), 1);
  Draw(codes, 1501);
  EXPECT_EQ(store.leases(), 3);
}

TEST(CodeAllocatorTest, StoreFailureIsReportedAndRecoveredFrom) {
  adapters::memory::MemoryLinkStore inner;
  ScriptedLinkStore store(inner);
  CodeAllocator codes(store, core::CodeScrambler(kKey), 10);
  store.FailNext(1);
  auto failed = codes.Next();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, core::ErrorCode::kUnavailable);

  std::vector<std::string> drawn = Draw(codes, 25);  // crosses block boundaries
  ASSERT_EQ(drawn.size(), 25u);
  const std::unordered_set<std::string> unique(drawn.begin(), drawn.end());
  EXPECT_EQ(unique.size(), drawn.size());
}

TEST(CodeAllocatorTest, FailureWhenTheNextBlockIsDueKeepsNoStaleState) {
  adapters::memory::MemoryLinkStore inner;
  ScriptedLinkStore store(inner);
  CodeAllocator codes(store, core::CodeScrambler(kKey), 5);
  std::vector<std::string> all = Draw(codes, 5);
  store.FailNext(2);
  EXPECT_FALSE(codes.Next());
  EXPECT_FALSE(codes.Next());
  auto more = Draw(codes, 20);
  all.insert(all.end(), more.begin(), more.end());
  ASSERT_EQ(all.size(), 25u);
  const std::unordered_set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size());
}

}  // namespace
}  // namespace kurz::service
