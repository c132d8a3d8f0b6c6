#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/account.hpp"
#include "core/error.hpp"
#include "core/link.hpp"
#include "ports/account_store.hpp"

namespace kurz::testing {

constexpr core::Micros kT0 = 1'795'000'000LL * core::kMicrosPerSecond;  // 2026-11-18

// Prints an error result readably in assertion messages.
template <class T>
std::string Describe(const core::Result<T>& r) {
  if (r) return "ok";
  return std::string(core::ToString(r.error().code)) + ": " + r.error().detail;
}

// prefix followed by n in decimal. (Spelled out because GCC 12 at -O2 gives a false -Wrestrict
// warning for "literal" + std::to_string(n).)
inline std::string Numbered(std::string_view prefix, long long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

// A distinct 64-character stand-in for a SHA-256 hex digest per seed.
inline std::string Hash(const std::string& seed) {
  std::string hash = seed + ":";
  hash.resize(64, '0');
  return hash;
}

inline core::User NewUser(const std::string& email, core::Micros at = kT0) {
  core::User user;
  user.email = email;
  user.created_at = at;
  return user;
}

inline core::ApiKey NewKey(const std::string& seed, core::Micros at = kT0) {
  core::ApiKey key;
  key.name = "key " + seed;
  key.key_hash = Hash(seed);
  key.prefix = key.key_hash.substr(0, 8);
  key.created_at = at;
  return key;
}

// Creates a user with one key; returns (user id, key id). Fails the test on error.
inline std::pair<std::int64_t, std::int64_t> AddUser(ports::AccountStore& accounts,
                                                     const std::string& email,
                                                     core::Micros at = kT0) {
  auto created = accounts.CreateUser(NewUser(email, at), NewKey("k-" + email, at));
  EXPECT_TRUE(created.has_value()) << Describe(created);
  if (!created) return {0, 0};
  return {created->first.id, created->second.id};
}

// A plain link; its url defaults to one of its own, since an owner may hold only one active
// plain link per url (deduplication).
inline core::Link NewLink(const std::string& code, std::int64_t owner, core::Micros created_at,
                          const std::string& url = "") {
  core::Link link;
  link.code = code;
  link.url = url.empty() ? "https://example.com/" + code : url;
  link.owner_id = owner;
  link.created_at = created_at;
  return link;
}

}  // namespace kurz::testing
