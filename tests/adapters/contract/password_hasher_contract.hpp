#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "core/error.hpp"
#include "ports/password_hasher.hpp"

// The PasswordHasher contract. Instantiate with a backend type that has Hasher().
namespace kurz::testing {

template <class Backend>
class PasswordHasherContract : public ::testing::Test {
 protected:
  ports::PasswordHasher& hasher() { return backend_.Hasher(); }

  std::string MustHash(std::string_view password) {
    auto encoded = hasher().Hash(password);
    EXPECT_TRUE(encoded) << Describe(encoded);
    return encoded ? *encoded : std::string();
  }
  void ExpectVerifies(const std::string& encoded, std::string_view password, bool want) {
    auto got = hasher().Verify(encoded, password);
    ASSERT_TRUE(got) << Describe(got) << " for " << encoded;
    EXPECT_EQ(*got, want) << "password '" << password << "' against " << encoded;
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(PasswordHasherContract);

TYPED_TEST_P(PasswordHasherContract, TheRightPasswordVerifies) {
  const std::string encoded = this->MustHash("correct horse");
  this->ExpectVerifies(encoded, "correct horse", true);
}

TYPED_TEST_P(PasswordHasherContract, AWrongPasswordIsFalseNotAnError) {
  const std::string encoded = this->MustHash("correct horse");
  this->ExpectVerifies(encoded, "correct horsE", false);
  this->ExpectVerifies(encoded, "correct horse ", false);
  this->ExpectVerifies(encoded, "correct hors", false);
  this->ExpectVerifies(encoded, "", false);
}

TYPED_TEST_P(PasswordHasherContract, EachHashHasItsOwnSalt) {
  const std::string a = this->MustHash("correct horse");
  const std::string b = this->MustHash("correct horse");
  EXPECT_NE(a, b);
  // "$argon2id$v=19$m=..,t=..,p=..$<salt>$<tag>": the salts differ, not only the tags.
  const auto salt = [](const std::string& s) {
    const std::size_t end = s.rfind('$');
    const std::size_t start = s.rfind('$', end - 1);
    return s.substr(start + 1, end - start - 1);
  };
  EXPECT_NE(salt(a), salt(b));
  EXPECT_GE(salt(a).size(), 22U);  // 16 bytes in unpadded base64
  this->ExpectVerifies(a, "correct horse", true);
  this->ExpectVerifies(b, "correct horse", true);
}

TYPED_TEST_P(PasswordHasherContract, TheEncodedStringIsArgon2idInPhcFormat) {
  const std::string encoded = this->MustHash("correct horse");
  EXPECT_TRUE(encoded.starts_with("$argon2id$v=19$m=")) << encoded;
  EXPECT_EQ(encoded.find("correct"), std::string::npos) << "the password shows in " << encoded;
  EXPECT_EQ(std::count(encoded.begin(), encoded.end(), '$'), 5) << encoded;
}

TYPED_TEST_P(PasswordHasherContract, UnreadableEncodedStringsAreErrorsNotCrashes) {
  const std::string good = this->MustHash("correct horse");
  const std::string garbage[] = {
      "",
      "garbage",
      "$argon2id$",
      "$argon2id$v=19$m=19456,t=2,p=1$",
      "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  // bcrypt
      good.substr(0, good.size() - 10),                                // cut short
      good.substr(0, good.rfind('$')) + "$!!!notbase64!!!",
      "$argon2id$v=19$m=4294967295,t=4294967295,p=255$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2g",
      "$argon2id$v=19$m=99999999999999999999,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2g",
      std::string("$argon2id$v=19$m=19456,t=2,p=1$\0c2FsdA$aGFzaA", 44),
  };
  for (const std::string& encoded : garbage) {
    auto got = this->hasher().Verify(encoded, "correct horse");
    ASSERT_FALSE(got) << "'" << encoded << "' verified as " << *got;
    EXPECT_TRUE(got.error().code == core::ErrorCode::kInvalidArgument ||
                got.error().code == core::ErrorCode::kInternal)
        << Describe(got) << " for '" << encoded << "'";
  }
}

TYPED_TEST_P(PasswordHasherContract, EmptyAndLongPasswords) {
  const std::string empty = this->MustHash("");
  this->ExpectVerifies(empty, "", true);
  this->ExpectVerifies(empty, " ", false);

  const std::string long_password(128, 'x');
  const std::string encoded = this->MustHash(long_password);
  this->ExpectVerifies(encoded, long_password, true);
  this->ExpectVerifies(encoded, std::string(127, 'x'), false);
  this->ExpectVerifies(encoded, long_password + "x", false);
}

TYPED_TEST_P(PasswordHasherContract, NonAsciiUtf8PasswordsAreTheirBytes) {
  const std::string password = "pässwörd \xE2\x9C\x93 \xF0\x9F\x94\x92 пароль";
  const std::string encoded = this->MustHash(password);
  this->ExpectVerifies(encoded, password, true);
  // The same letters in another Unicode normalization are other bytes, so another password.
  this->ExpectVerifies(encoded, "pa\xCC\x88sswo\xCC\x88rd \xE2\x9C\x93 \xF0\x9F\x94\x92 пароль",
                       false);
  // Bytes after a NUL count (no C-string truncation).
  const std::string with_nul("ab\0cd", 5);
  const std::string nul_encoded = this->MustHash(with_nul);
  this->ExpectVerifies(nul_encoded, with_nul, true);
  this->ExpectVerifies(nul_encoded, "ab", false);
}

REGISTER_TYPED_TEST_SUITE_P(PasswordHasherContract, TheRightPasswordVerifies,
                            AWrongPasswordIsFalseNotAnError, EachHashHasItsOwnSalt,
                            TheEncodedStringIsArgon2idInPhcFormat,
                            UnreadableEncodedStringsAreErrorsNotCrashes, EmptyAndLongPasswords,
                            NonAsciiUtf8PasswordsAreTheirBytes);

}  // namespace kurz::testing
