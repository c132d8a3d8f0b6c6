#include "core/short_code.hpp"

#include <string>

#include <gtest/gtest.h>

namespace kurz::core {
namespace {

TEST(LooksLikeCodeTest, AcceptsOneToThirtyTwoCodeCharacters) {
  EXPECT_TRUE(LooksLikeCode("a"));
  EXPECT_TRUE(LooksLikeCode("aZ3kP9q"));
  EXPECT_TRUE(LooksLikeCode("launch-2026"));
  EXPECT_TRUE(LooksLikeCode("under_score"));
  EXPECT_TRUE(LooksLikeCode(std::string(32, 'x')));
}

TEST(LooksLikeCodeTest, RejectsJunk) {
  EXPECT_FALSE(LooksLikeCode(""));
  EXPECT_FALSE(LooksLikeCode(std::string(33, 'x')));
  EXPECT_FALSE(LooksLikeCode("favicon.ico"));
  EXPECT_FALSE(LooksLikeCode("a/b"));
  EXPECT_FALSE(LooksLikeCode("a b"));
  EXPECT_FALSE(LooksLikeCode("a%20b"));
  EXPECT_FALSE(LooksLikeCode("caf\xC3\xA9"));
  EXPECT_FALSE(LooksLikeCode(std::string_view("ab\0c", 4)));
}

TEST(ValidateCustomCodeTest, AcceptsValidCodes) {
  EXPECT_TRUE(ValidateCustomCode("abc").has_value());
  EXPECT_TRUE(ValidateCustomCode("launch-2026").has_value());
  EXPECT_TRUE(ValidateCustomCode("A_b-C_9").has_value());
  EXPECT_TRUE(ValidateCustomCode(std::string(32, 'Z')).has_value());
  // Contains a reserved word but is not one.
  EXPECT_TRUE(ValidateCustomCode("apis").has_value());
  EXPECT_TRUE(ValidateCustomCode("my-admin").has_value());
}

void ExpectInvalid(std::string_view code, std::string_view message) {
  const Result<void> r = ValidateCustomCode(code);
  ASSERT_FALSE(r.has_value()) << code;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidCode) << code;
  EXPECT_EQ(r.error().detail, message) << code;
}

TEST(ValidateCustomCodeTest, LengthRule) {
  ExpectInvalid("", "custom_code must be 3 to 32 characters");
  ExpectInvalid("ab", "custom_code must be 3 to 32 characters");
  ExpectInvalid(std::string(33, 'a'), "custom_code must be 3 to 32 characters");
}

TEST(ValidateCustomCodeTest, CharacterRule) {
  constexpr std::string_view kMessage = "custom_code may contain only A-Z, a-z, 0-9, '_' and '-'";
  ExpectInvalid("has space", kMessage);
  ExpectInvalid("slash/code", kMessage);
  ExpectInvalid("dot.code", kMessage);
  ExpectInvalid("caf\xC3\xA9", kMessage);
  ExpectInvalid("emoji\xF0\x9F\x98\x80", kMessage);
  ExpectInvalid("q?x=1", kMessage);
}

TEST(ValidateCustomCodeTest, ReservedWordsAreRefusedInAnyCase) {
  ExpectInvalid("api", "custom_code 'api' is reserved");
  ExpectInvalid("API", "custom_code 'API' is reserved");
  ExpectInvalid("healthz", "custom_code 'healthz' is reserved");
  ExpectInvalid("ReadyZ", "custom_code 'ReadyZ' is reserved");
  ExpectInvalid("metrics", "custom_code 'metrics' is reserved");
  ExpectInvalid("static", "custom_code 'static' is reserved");
  ExpectInvalid("Admin", "custom_code 'Admin' is reserved");
}

TEST(IsReservedWordTest, ListFromTheApi) {
  for (const char* word : {"v1", "api", "healthz", "readyz", "metrics", "ui", "static", "admin",
                           "favicon.ico", "robots.txt", "V1", "UI", "Favicon.ICO", "ROBOTS.TXT"}) {
    EXPECT_TRUE(IsReservedWord(word)) << word;
  }
  for (const char* word : {"", "v2", "apis", "ap", "health", "robots", "favicon", "x"}) {
    EXPECT_FALSE(IsReservedWord(word)) << word;
  }
}

}  // namespace
}  // namespace kurz::core
