#include "service/account_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "adapters/memory/account_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "service/crypto.hpp"
#include "service/fakes.hpp"

namespace kurz::service {
namespace {

using core::ErrorCode;
using fakes::Describe;
using fakes::FakeClock;
using fakes::kSecond;
using fakes::kT0;

constexpr std::string_view kBootstrapKey = "test-bootstrap-key-0123456789";

bool IsBase62(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

class AccountServiceTest : public ::testing::Test {
 protected:
  // Bootstraps the admin and returns its principal.
  Principal Admin() {
    auto key = accounts_.Bootstrap(std::string(kBootstrapKey));
    EXPECT_TRUE(key) << Describe(key);
    auto who = accounts_.Authenticate(kBootstrapKey);
    EXPECT_TRUE(who) << Describe(who);
    return who ? *who : Principal{};
  }

  // Creates a user; returns the user and the secret of its first key.
  std::pair<core::User, std::string> NewUser(const std::string& email) {
    auto created = accounts_.CreateUser(email, "free");
    EXPECT_TRUE(created) << Describe(created);
    if (!created) return {};
    return {created->user, created->first_key.secret};
  }

  Principal Login(std::string_view secret) {
    auto who = accounts_.Authenticate(secret);
    EXPECT_TRUE(who) << Describe(who);
    return who ? *who : Principal{};
  }

  ErrorCode AuthError(std::string_view secret) {
    auto who = accounts_.Authenticate(secret);
    EXPECT_FALSE(who) << "the key was accepted";
    return who ? ErrorCode::kInternal : who.error().code;
  }

  FakeClock clock_;
  adapters::memory::MemoryAccountStore store_;
  RedirectCache cache_{1000, 2 * kSecond};
  AccountService accounts_{store_, cache_, clock_};
};

// --- Bootstrap --------------------------------------------------------------------------------

TEST_F(AccountServiceTest, BootstrapOnAnEmptyStoreCreatesTheAdminWithTheGivenKey) {
  auto key = accounts_.Bootstrap(std::string(kBootstrapKey));
  ASSERT_TRUE(key) << Describe(key);
  ASSERT_TRUE(*key);
  EXPECT_EQ(**key, kBootstrapKey);

  auto who = accounts_.Authenticate(kBootstrapKey);
  ASSERT_TRUE(who) << Describe(who);
  EXPECT_EQ(who->permissions, core::kAllPermissions);
  EXPECT_TRUE(who->Has(core::kPermAdmin));
  auto users = accounts_.ListUsers();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].email, "admin@localhost");
}

TEST_F(AccountServiceTest, BootstrapWithoutAKeyMakesARandomOne) {
  auto key = accounts_.Bootstrap(std::nullopt);
  ASSERT_TRUE(key && *key) << Describe(key);
  const std::string& secret = **key;
  ASSERT_EQ(secret.size(), 43u) << secret;
  EXPECT_TRUE(secret.starts_with("kz_")) << secret;
  EXPECT_TRUE(IsBase62(std::string_view(secret).substr(3))) << secret;
  auto who = accounts_.Authenticate(secret);
  ASSERT_TRUE(who) << Describe(who);
  EXPECT_TRUE(who->Has(core::kPermAdmin));
}

TEST_F(AccountServiceTest, BootstrapRunsOnlyOnce) {
  ASSERT_TRUE(accounts_.Bootstrap(std::string(kBootstrapKey)));
  auto second = accounts_.Bootstrap(std::string("another-bootstrap-key-xyz"));
  ASSERT_TRUE(second) << Describe(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(AuthError("another-bootstrap-key-xyz"), ErrorCode::kUnauthorized);
  EXPECT_EQ(*store_.CountUsers(), 1);
}

TEST_F(AccountServiceTest, BootstrapDoesNothingWhenUsersExist) {
  NewUser("alice@example.com");
  auto key = accounts_.Bootstrap(std::string(kBootstrapKey));
  ASSERT_TRUE(key) << Describe(key);
  EXPECT_FALSE(*key);
  EXPECT_EQ(AuthError(kBootstrapKey), ErrorCode::kUnauthorized);
}

TEST_F(AccountServiceTest, AShortBootstrapKeyKeepsAtMostAQuarterOfItselfAsPrefix) {
  const std::string key = "sixteen-chars-ok";  // the shortest --bootstrap-key accepts
  ASSERT_TRUE(accounts_.Bootstrap(key));
  const Principal admin = Login(key);
  auto keys = accounts_.ListKeys(admin);
  ASSERT_TRUE(keys) << Describe(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().prefix, "sixt");
}

// --- Authenticate -----------------------------------------------------------------------------

TEST_F(AccountServiceTest, UnknownOrEmptyKeyIsUnauthorized) {
  Admin();
  EXPECT_EQ(AuthError("kz_doesnotexist000000000000000000000000000"), ErrorCode::kUnauthorized);
  EXPECT_EQ(AuthError(""), ErrorCode::kUnauthorized);
  EXPECT_EQ(AuthError(std::string(kBootstrapKey) + "x"), ErrorCode::kUnauthorized);
  EXPECT_EQ(AuthError(std::string(kBootstrapKey).substr(0, 8)), ErrorCode::kUnauthorized)
      << "the prefix alone is not the key";
}

TEST_F(AccountServiceTest, UserKeyAuthenticatesWithDefaultPermissions) {
  auto [alice, secret] = NewUser("alice@example.com");
  const Principal who = Login(secret);
  EXPECT_EQ(who.user_id, alice.id);
  EXPECT_EQ(who.permissions, core::kDefaultUserPermissions);
  EXPECT_FALSE(who.Has(core::kPermAdmin));
}

TEST_F(AccountServiceTest, RevokedKeyIsUnauthorizedAtOnce) {
  auto [alice, secret] = NewUser("alice@example.com");
  const Principal who = Login(secret);
  auto second = accounts_.CreateKey(who, "ci", core::kPermRead);
  ASSERT_TRUE(second) << Describe(second);

  auto revoked = accounts_.RevokeKey(who, who.key_id);
  ASSERT_TRUE(revoked) << Describe(revoked);
  EXPECT_EQ(AuthError(secret), ErrorCode::kUnauthorized);
  EXPECT_TRUE(accounts_.Authenticate(second->secret)) << "other keys keep working";

  auto again = accounts_.RevokeKey(who, who.key_id);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TEST_F(AccountServiceTest, ExpiredKeyIsUnauthorized) {
  auto [alice, secret] = NewUser("alice@example.com");
  const std::string expiring_secret = "kz_expiringKey000000000000000000000000000";
  core::ApiKey key;
  key.user_id = alice.id;
  key.name = "temporary";
  key.prefix = expiring_secret.substr(0, 8);
  key.key_hash = Sha256Hex(expiring_secret);
  key.created_at = kT0;
  key.expires_at = kT0 + 60 * kSecond;
  ASSERT_TRUE(store_.CreateKey(key));

  EXPECT_TRUE(accounts_.Authenticate(expiring_secret));
  clock_.Set(kT0 + 60 * kSecond);
  EXPECT_EQ(AuthError(expiring_secret), ErrorCode::kUnauthorized);
  EXPECT_TRUE(accounts_.Authenticate(secret)) << "keys without expiry are unaffected";
}

TEST_F(AccountServiceTest, SuspendedUsersKeysAreUnauthorizedUntilReactivated) {
  const Principal admin = Admin();
  auto [alice, secret] = NewUser("alice@example.com");
  ASSERT_TRUE(accounts_.Authenticate(secret));

  auto suspended = accounts_.SetUserStatus(admin, alice.id, core::UserStatus::kSuspended);
  ASSERT_TRUE(suspended) << Describe(suspended);
  EXPECT_EQ(suspended->status, core::UserStatus::kSuspended);
  EXPECT_EQ(AuthError(secret), ErrorCode::kUnauthorized);

  auto active = accounts_.SetUserStatus(admin, alice.id, core::UserStatus::kActive);
  ASSERT_TRUE(active) << Describe(active);
  EXPECT_TRUE(accounts_.Authenticate(secret));
}

// --- Keys -------------------------------------------------------------------------------------

TEST_F(AccountServiceTest, NewKeyIsShownOnceAndStoredOnlyAsAHash) {
  auto [alice, secret] = NewUser("alice@example.com");
  const Principal who = Login(secret);
  auto created = accounts_.CreateKey(who, "laptop", core::kPermRead | core::kPermCreate);
  ASSERT_TRUE(created) << Describe(created);
  const std::string& key_secret = created->secret;
  EXPECT_TRUE(key_secret.starts_with("kz_"));
  EXPECT_EQ(key_secret.size(), 43u);
  EXPECT_EQ(created->key.prefix, key_secret.substr(0, 6)) << "at most 6 characters are kept";
  EXPECT_EQ(created->key.key_hash, Sha256Hex(key_secret));
  EXPECT_EQ(created->key.user_id, alice.id);
  EXPECT_EQ(created->key.name, "laptop");
  EXPECT_EQ(created->key.created_at, kT0);

  auto listed = accounts_.ListKeys(who);
  ASSERT_TRUE(listed) << Describe(listed);
  ASSERT_EQ(listed->size(), 2u);
  for (const core::ApiKey& k : *listed) {
    EXPECT_EQ(k.name.find(key_secret), std::string::npos);
    EXPECT_NE(k.key_hash, key_secret);
  }
  const Principal laptop = Login(key_secret);
  EXPECT_EQ(laptop.user_id, alice.id);
  EXPECT_EQ(laptop.permissions, core::kPermRead | core::kPermCreate);
}

TEST_F(AccountServiceTest, KeysAreUnique) {
  auto [alice, secret] = NewUser("alice@example.com");
  const Principal who = Login(secret);
  std::set<std::string> secrets{secret};
  for (int i = 0; i < 50; ++i) {
    auto k = accounts_.CreateKey(who, "k", core::kPermRead);
    ASSERT_TRUE(k) << Describe(k);
    EXPECT_TRUE(secrets.insert(k->secret).second);
  }
}

TEST_F(AccountServiceTest, AKeyGrantsOnlyPermissionsItsCreatorHolds) {
  const Principal admin = Admin();
  auto [alice, secret] = NewUser("alice@example.com");
  const Principal alice_full = Login(secret);
  auto read_only = accounts_.CreateKey(alice_full, "read only", core::kPermRead);
  ASSERT_TRUE(read_only) << Describe(read_only);
  const Principal reader = Login(read_only->secret);

  // A subset (or the same set) is fine.
  EXPECT_TRUE(accounts_.CreateKey(reader, "still read", core::kPermRead));
  EXPECT_TRUE(accounts_.CreateKey(alice_full, "same", core::kDefaultUserPermissions));
  // More than the creator holds is forbidden.
  for (core::Permissions extra : {core::Permissions{core::kPermCreate},
                                  core::Permissions{core::kPermRead | core::kPermDelete},
                                  core::Permissions{core::kPermAdmin}}) {
    auto r = accounts_.CreateKey(reader, "escalate", extra);
    ASSERT_FALSE(r) << int(extra);
    EXPECT_EQ(r.error().code, ErrorCode::kForbidden) << int(extra);
  }
  auto admin_from_user = accounts_.CreateKey(alice_full, "admin", core::kAllPermissions);
  ASSERT_FALSE(admin_from_user);
  EXPECT_EQ(admin_from_user.error().code, ErrorCode::kForbidden);

  // The admin may hand out admin keys.
  auto admin_key = accounts_.CreateKey(admin, "second admin", core::kAllPermissions);
  ASSERT_TRUE(admin_key) << Describe(admin_key);
  EXPECT_TRUE(Login(admin_key->secret).Has(core::kPermAdmin));
}

TEST_F(AccountServiceTest, KeyNameLongerThan100CharactersIsRefused) {
  auto [alice, secret] = NewUser("alice@example.com");
  const Principal who = Login(secret);
  EXPECT_TRUE(accounts_.CreateKey(who, std::string(100, 'n'), core::kPermRead));
  auto r = accounts_.CreateKey(who, std::string(101, 'n'), core::kPermRead);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(AccountServiceTest, UsersSeeAndRevokeOnlyTheirOwnKeys) {
  auto [alice, alice_secret] = NewUser("alice@example.com");
  auto [bob, bob_secret] = NewUser("bob@example.com");
  const Principal a = Login(alice_secret);
  const Principal b = Login(bob_secret);

  auto alices = accounts_.ListKeys(a);
  ASSERT_TRUE(alices);
  ASSERT_EQ(alices->size(), 1u);
  EXPECT_EQ((*alices)[0].user_id, alice.id);

  auto stolen = accounts_.RevokeKey(b, a.key_id);
  ASSERT_FALSE(stolen);
  EXPECT_EQ(stolen.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(accounts_.Authenticate(alice_secret)) << "Bob must not be able to revoke it";
  auto unknown = accounts_.RevokeKey(a, 9999);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

// --- Users ------------------------------------------------------------------------------------

TEST_F(AccountServiceTest, CreateUserGivesAWorkingFirstKey) {
  clock_.Set(kT0 + 5 * kSecond);
  auto created = accounts_.CreateUser("carol@example.com", "pro");
  ASSERT_TRUE(created) << Describe(created);
  EXPECT_GT(created->user.id, 0);
  EXPECT_EQ(created->user.email, "carol@example.com");
  EXPECT_EQ(created->user.tier, "pro");
  EXPECT_EQ(created->user.status, core::UserStatus::kActive);
  EXPECT_EQ(created->user.created_at, kT0 + 5 * kSecond);
  EXPECT_EQ(created->first_key.key.permissions, core::kDefaultUserPermissions);
  EXPECT_EQ(Login(created->first_key.secret).user_id, created->user.id);

  auto found = accounts_.FindUser(created->user.id);
  ASSERT_TRUE(found) << Describe(found);
  EXPECT_EQ(found->email, "carol@example.com");
}

TEST_F(AccountServiceTest, DuplicateEmailIsAConflict) {
  NewUser("alice@example.com");
  auto same = accounts_.CreateUser("alice@example.com", "free");
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, ErrorCode::kConflict);
  auto other_case = accounts_.CreateUser("Alice@Example.COM", "free");
  ASSERT_FALSE(other_case);
  EXPECT_EQ(other_case.error().code, ErrorCode::kConflict);
  EXPECT_EQ(*store_.CountUsers(), 1);
}

TEST_F(AccountServiceTest, InvalidEmailIsAnInvalidArgument) {
  const std::string too_long = std::string(250, 'a') + "@example.com";
  for (const std::string& email :
       {std::string(""), std::string("alice"), std::string("@example.com"), std::string("alice@"),
        std::string("alice@example"), std::string("alice@example.com."),
        std::string("alice@@example.com"), std::string("al ice@example.com"),
        std::string("alice@exa,mple.com"), std::string("<alice@example.com>"),
        std::string("alice@example.com\n"), too_long}) {
    auto r = accounts_.CreateUser(email, "free");
    ASSERT_FALSE(r) << "'" << email << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << "'" << email << "'";
    EXPECT_FALSE(ValidateEmail(email)) << "'" << email << "'";
  }
  EXPECT_EQ(*store_.CountUsers(), 0);
  EXPECT_TRUE(ValidateEmail("a.b+tag@mail.example.co.uk"));
}

TEST_F(AccountServiceTest, InvalidTierIsAnInvalidArgument) {
  for (const char* tier : {"", "gold", "Free", "PRO", "enterprise "}) {
    auto r = accounts_.CreateUser("alice@example.com", tier);
    ASSERT_FALSE(r) << "'" << tier << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << "'" << tier << "'";
  }
  for (const char* tier : {"free", "pro", "enterprise"}) EXPECT_TRUE(ValidateTier(tier)) << tier;
}

TEST_F(AccountServiceTest, ListUsersOldestFirst) {
  Admin();
  clock_.Advance(kSecond);
  NewUser("alice@example.com");
  clock_.Advance(kSecond);
  NewUser("bob@example.com");
  auto users = accounts_.ListUsers();
  ASSERT_TRUE(users) << Describe(users);
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].email, "admin@localhost");
  EXPECT_EQ((*users)[1].email, "alice@example.com");
  EXPECT_EQ((*users)[2].email, "bob@example.com");
}

TEST_F(AccountServiceTest, UnknownUserIsNotFound) {
  const Principal admin = Admin();
  auto found = accounts_.FindUser(4242);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
  auto set = accounts_.SetUserStatus(admin, 4242, core::UserStatus::kSuspended);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code, ErrorCode::kNotFound);
}

TEST_F(AccountServiceTest, AdminCannotSuspendThemselves) {
  const Principal admin = Admin();
  auto r = accounts_.SetUserStatus(admin, admin.user_id, core::UserStatus::kSuspended);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(accounts_.Authenticate(kBootstrapKey)) << "the admin must still be able to log in";
  // Setting oneself active is harmless.
  EXPECT_TRUE(accounts_.SetUserStatus(admin, admin.user_id, core::UserStatus::kActive));
}

TEST_F(AccountServiceTest, SuspensionStopsTheUsersLinksAndReactivationRestoresThem) {
  // The redirect side: links of a suspended user answer 410, also when they were cached.
  adapters::memory::MemoryLinkStore links_store(store_);
  CodeAllocator codes(links_store, core::CodeScrambler({5, 6, 7, 8}), 100);
  LinkService links(links_store, codes, cache_, clock_, "sho.rt");
  const Principal admin = Admin();
  auto [alice, secret] = NewUser("alice@example.com");
  const Principal a = Login(secret);
  CreateLinkInput input;
  input.url = "https://example.com/alice";
  auto created = links.Create(a, input);
  ASSERT_TRUE(created) << Describe(created);
  const std::string code = created->link.code;
  ASSERT_EQ(links.Resolve(code)->state, core::LinkState::kActive);  // now cached

  ASSERT_TRUE(accounts_.SetUserStatus(admin, alice.id, core::UserStatus::kSuspended));
  bool cached_redirect = false;
  cache_.Lookup(code, clock_.Now(), [&](const core::ResolvedLinkView& link) {
    cached_redirect = link.state == core::LinkState::kActive;
  });
  EXPECT_FALSE(cached_redirect) << "the cache still redirects a suspended user's link";
  EXPECT_EQ(links.Resolve(code)->state, core::LinkState::kGone);

  ASSERT_TRUE(accounts_.SetUserStatus(admin, alice.id, core::UserStatus::kActive));
  bool cached_gone = false;
  cache_.Lookup(code, clock_.Now(), [&](const core::ResolvedLinkView& link) {
    cached_gone = link.state == core::LinkState::kGone;
  });
  EXPECT_FALSE(cached_gone) << "the cache still answers 410 after reactivation";
  EXPECT_EQ(links.Resolve(code)->state, core::LinkState::kActive);
}

}  // namespace
}  // namespace kurz::service
