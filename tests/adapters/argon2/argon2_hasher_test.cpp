// The PasswordHasher contract against the argon2id adapter with its default (production)
// parameters, and what is particular to it: the parameters it writes, hashes made with other
// parameters, and its cost.
#include "adapters/argon2/argon2_hasher.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "adapters/contract/password_hasher_contract.hpp"

namespace kurz::testing {
namespace {

struct Argon2Backend {
  ports::PasswordHasher& Hasher() { return hasher; }
  adapters::argon2::Argon2Hasher hasher;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Argon2, PasswordHasherContract, Argon2Backend);

namespace {

TEST(Argon2Hasher, WritesItsParametersIntoTheEncodedString) {
  adapters::argon2::Argon2Hasher hasher;
  auto encoded = hasher.Hash("correct horse");
  ASSERT_TRUE(encoded) << Describe(encoded);
  EXPECT_TRUE(encoded->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *encoded;
}

TEST(Argon2Hasher, VerifiesHashesMadeWithOtherParameters) {
  adapters::argon2::Argon2Hasher cheap({.memory_kib = 64, .passes = 1, .lanes = 1});
  auto encoded = cheap.Hash("correct horse");
  ASSERT_TRUE(encoded) << Describe(encoded);
  EXPECT_TRUE(encoded->starts_with("$argon2id$v=19$m=64,t=1,p=1$")) << *encoded;
  adapters::argon2::Argon2Hasher hasher;  // today's defaults
  auto right = hasher.Verify(*encoded, "correct horse");
  ASSERT_TRUE(right) << Describe(right);
  EXPECT_TRUE(*right);
  auto wrong = hasher.Verify(*encoded, "wrong horse");
  ASSERT_TRUE(wrong) << Describe(wrong);
  EXPECT_FALSE(*wrong);
}

TEST(Argon2Hasher, RefusesParametersBeyondItsBoundsWithoutTryingThem) {
  adapters::argon2::Argon2Hasher hasher;
  // 4 GiB of memory if it were tried: refused at once instead.
  const auto started = std::chrono::steady_clock::now();
  auto got = hasher.Verify(
      "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
      "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
      "x");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, core::ErrorCode::kInvalidArgument) << Describe(got);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
}

TEST(Argon2Hasher, IsSlowOnPurpose) {
  // Guards against a regression to toy parameters: 19 MiB and 2 passes take well over a
  // millisecond on any machine (about 20-40 ms here; docs/decisions/0009-password-hashing.md).
  adapters::argon2::Argon2Hasher hasher;
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(hasher.Hash("correct horse"));
  EXPECT_GT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2));
}

}  // namespace
}  // namespace kurz::testing
