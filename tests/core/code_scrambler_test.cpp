#include "core/code_scrambler.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "core/base62.hpp"

namespace kurz::core {
namespace {

constexpr CodeScrambler::Key kKey = {0x0123456789abcdefULL, 0xfedcba9876543210ULL,
                                     0x0f1e2d3c4b5a6978ULL, 0x8796a5b4c3d2e1f0ULL};

TEST(CodeScramblerTest, TwoMillionConsecutiveValuesAreDistinctInRangeAndInvertible) {
  const CodeScrambler scrambler(kKey);
  constexpr std::uint64_t kCount = 2'000'000;
  std::vector<std::uint64_t> out;
  out.reserve(kCount);
  for (std::uint64_t v = 0; v < kCount; ++v) {
    const std::uint64_t s = scrambler.Scramble(v);
    ASSERT_LT(s, kCodeSpace) << v;
    ASSERT_EQ(scrambler.Unscramble(s), v) << v;
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  EXPECT_EQ(std::adjacent_find(out.begin(), out.end()), out.end()) << "two values collided";
}

TEST(CodeScramblerTest, ValuesAtTheTopOfTheSpaceStayInRangeAndInvert) {
  const CodeScrambler scrambler(kKey);
  std::vector<std::uint64_t> out;
  for (std::uint64_t v = kCodeSpace - 100'000; v < kCodeSpace; ++v) {
    const std::uint64_t s = scrambler.Scramble(v);
    ASSERT_LT(s, kCodeSpace) << v;
    ASSERT_EQ(scrambler.Unscramble(s), v) << v;
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  EXPECT_EQ(std::adjacent_find(out.begin(), out.end()), out.end());
}

TEST(CodeScramblerTest, UnscrambleIsAlsoARightInverse) {
  // Walks arbitrary codes backwards: Scramble(Unscramble(c)) == c for any code c.
  const CodeScrambler scrambler(kKey);
  std::uint64_t c = 12345;
  for (int i = 0; i < 100'000; ++i) {
    c = (c * 6364136223846793005ULL + 1442695040888963407ULL) % kCodeSpace;
    const std::uint64_t u = scrambler.Unscramble(c);
    ASSERT_LT(u, kCodeSpace);
    ASSERT_EQ(scrambler.Scramble(u), c);
  }
  EXPECT_EQ(scrambler.Scramble(scrambler.Unscramble(kCodeSpace - 1)), kCodeSpace - 1);
  EXPECT_EQ(scrambler.Scramble(scrambler.Unscramble(0)), 0u);
}

TEST(CodeScramblerTest, SameKeySameMappingForever) {
  // Stored links depend on this mapping: changing the network breaks the uniqueness of codes
  // already handed out (the counter continues, the mapping would not).
  const CodeScrambler scrambler(kKey);
  // Values checked against an independent Python model of the network.
  EXPECT_EQ(scrambler.Scramble(0), 175'476'084'667u);
  EXPECT_EQ(scrambler.Scramble(1), 425'921'311'221u);
  EXPECT_EQ(scrambler.Scramble(1'000'000), 232'850'166'248u);
  EXPECT_EQ(scrambler.Scramble(kCodeSpace - 1), 2'976'763'353'243u);
  const CodeScrambler zero_key(CodeScrambler::Key{0, 0, 0, 0});
  EXPECT_EQ(zero_key.Scramble(0), 1'068'541'161'789u);
}

TEST(CodeScramblerTest, DifferentKeysGiveDifferentMappings) {
  const CodeScrambler a(kKey);
  CodeScrambler::Key other = kKey;
  other[3] ^= 1;  // a single key bit
  const CodeScrambler b(other);
  int same = 0;
  for (std::uint64_t v = 0; v < 10'000; ++v) same += a.Scramble(v) == b.Scramble(v) ? 1 : 0;
  EXPECT_LT(same, 5);
}

TEST(CodeScramblerTest, EveryKeyWordMatters) {
  const CodeScrambler base(kKey);
  for (std::size_t word = 0; word < kKey.size(); ++word) {
    CodeScrambler::Key other = kKey;
    other[word] += 1;
    const CodeScrambler changed(other);
    int same = 0;
    for (std::uint64_t v = 0; v < 1000; ++v) same += base.Scramble(v) == changed.Scramble(v);
    EXPECT_LT(same, 5) << "key word " << word;
  }
}

TEST(CodeScramblerTest, ConsecutiveInputsDoNotGiveNeighbouringCodes) {
  const CodeScrambler scrambler(kKey);
  int close = 0;
  double flipped_bits = 0;
  constexpr int kSamples = 10'000;
  for (std::uint64_t v = 0; v < kSamples; ++v) {
    const std::uint64_t a = scrambler.Scramble(v);
    const std::uint64_t b = scrambler.Scramble(v + 1);
    const std::uint64_t distance = a > b ? a - b : b - a;
    if (distance < kCodeSpace / 1000) ++close;
    flipped_bits += std::popcount(a ^ b);
  }
  EXPECT_LT(close, kSamples / 100);
  // About half of the 42 bits change between neighbours.
  EXPECT_NEAR(flipped_bits / kSamples, 21.0, 2.0);
}

TEST(CodeScramblerTest, GeneratedCodesLookRandomAcrossTheAlphabet) {
  const CodeScrambler scrambler(kKey);
  int first_char_counts[62] = {};
  char code[7];
  for (std::uint64_t v = 0; v < 62'000; ++v) {
    EncodeBase62Fixed7(scrambler.Scramble(v), code);
    const std::optional<std::uint64_t> d = DecodeBase62(std::string_view(code, 1));
    ASSERT_TRUE(d.has_value());
    ++first_char_counts[*d];
  }
  for (const int count : first_char_counts) {
    EXPECT_GT(count, 700);
    EXPECT_LT(count, 1300);
  }
}

}  // namespace
}  // namespace kurz::core
