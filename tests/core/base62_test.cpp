#include "core/base62.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace kurz::core {
namespace {

TEST(Base62Test, CodeSpaceIs62ToTheSeventh) {
  std::uint64_t space = 1;
  for (int i = 0; i < 7; ++i) space *= 62;
  EXPECT_EQ(kCodeSpace, space);
}

TEST(Base62Test, EncodesWithAlphabetOrderDigitsUpperLower) {
  EXPECT_EQ(EncodeBase62(0, 1), "0");
  EXPECT_EQ(EncodeBase62(9, 1), "9");
  EXPECT_EQ(EncodeBase62(10, 1), "A");
  EXPECT_EQ(EncodeBase62(35, 1), "Z");
  EXPECT_EQ(EncodeBase62(36, 1), "a");
  EXPECT_EQ(EncodeBase62(61, 1), "z");
  EXPECT_EQ(EncodeBase62(62, 1), "10");
  EXPECT_EQ(EncodeBase62(62 * 62 - 1, 1), "zz");
}

TEST(Base62Test, PadsToMinimumLengthDefaultSeven) {
  EXPECT_EQ(EncodeBase62(0), "0000000");
  EXPECT_EQ(EncodeBase62(61), "000000z");
  EXPECT_EQ(EncodeBase62(kCodeSpace - 1), "zzzzzzz");
  EXPECT_EQ(EncodeBase62(5, 0), "5");
  EXPECT_EQ(EncodeBase62(5, 3), "005");
}

TEST(Base62Test, LongerThanMinimumIsNotTruncated) {
  EXPECT_EQ(EncodeBase62(kCodeSpace), "10000000");
  EXPECT_EQ(EncodeBase62(std::numeric_limits<std::uint64_t>::max()), "LygHa16AHYF");
}

TEST(Base62Test, Fixed7MatchesEncodeBase62) {
  for (const std::uint64_t v :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{61}, std::uint64_t{62},
        std::uint64_t{123'456'789'012}, kCodeSpace / 2, kCodeSpace - 1}) {
    char out[7];
    EncodeBase62Fixed7(v, out);
    EXPECT_EQ(std::string(out, 7), EncodeBase62(v)) << v;
  }
}

TEST(Base62Test, Fixed7WritesExactlySevenBytes) {
  char buf[9] = {'#', '#', '#', '#', '#', '#', '#', '#', '#'};
  EncodeBase62Fixed7(kCodeSpace - 1, buf + 1);
  EXPECT_EQ(std::string(buf, 9), "#zzzzzzz#");
}

TEST(Base62Test, DecodeRoundTrips) {
  for (std::uint64_t v = 0; v < 100'000; v += 7) {
    EXPECT_EQ(DecodeBase62(EncodeBase62(v)), v);
  }
  EXPECT_EQ(DecodeBase62("zzzzzzz"), kCodeSpace - 1);
  EXPECT_EQ(DecodeBase62("0000000"), 0u);
  EXPECT_EQ(DecodeBase62("aZ3kP9q"), DecodeBase62("00aZ3kP9q"));
}

TEST(Base62Test, DecodeIsCaseSensitive) {
  EXPECT_EQ(DecodeBase62("a"), 36u);
  EXPECT_EQ(DecodeBase62("A"), 10u);
}

TEST(Base62Test, DecodeRejectsEmptyForeignCharactersAndOverflow) {
  EXPECT_EQ(DecodeBase62(""), std::nullopt);
  EXPECT_EQ(DecodeBase62("abc-def"), std::nullopt);
  EXPECT_EQ(DecodeBase62("abc_def"), std::nullopt);
  EXPECT_EQ(DecodeBase62("abc def"), std::nullopt);
  EXPECT_EQ(DecodeBase62("ab\xC3\xA4"), std::nullopt);
  EXPECT_EQ(DecodeBase62("LygHa16AHYF"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(DecodeBase62("LygHa16AHYG"), std::nullopt);
  EXPECT_EQ(DecodeBase62("zzzzzzzzzzzz"), std::nullopt);
}

}  // namespace
}  // namespace kurz::core
