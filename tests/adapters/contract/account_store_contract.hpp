#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/account_store.hpp"

// The AccountStore contract. Instantiate with a backend type (see backends.hpp).
namespace kurz::testing {

template <class Backend>
class AccountStoreContract : public ::testing::Test {
 protected:
  ports::AccountStore& accounts() { return backend_.Accounts(); }

  core::ApiKey KeyFor(std::int64_t user_id, const std::string& seed, core::Micros at = kT0) {
    core::ApiKey key = NewKey(seed, at);
    key.user_id = user_id;
    return key;
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(AccountStoreContract);

TYPED_TEST_P(AccountStoreContract, FreshStoreHasNoUsers) {
  auto count = this->accounts().CountUsers();
  ASSERT_TRUE(count) << Describe(count);
  EXPECT_EQ(*count, 0);
  EXPECT_TRUE(this->accounts().ListUsers()->empty());
}

TYPED_TEST_P(AccountStoreContract, CreateUserStoresTheUserAndItsFirstKey) {
  core::User user = NewUser("Alice@Example.com");
  user.tier = "pro";
  core::ApiKey key = NewKey("alice");
  key.user_id = 12345;  // ignored
  key.permissions = core::kAllPermissions;
  key.expires_at = kT0 + 99;
  auto created = this->accounts().CreateUser(user, key);
  ASSERT_TRUE(created) << Describe(created);
  const auto& [stored_user, stored_key] = *created;
  EXPECT_GT(stored_user.id, 0);
  EXPECT_EQ(stored_user.email, "Alice@Example.com");
  EXPECT_EQ(stored_user.tier, "pro");
  EXPECT_EQ(stored_user.status, core::UserStatus::kActive);
  EXPECT_EQ(stored_user.created_at, kT0);
  EXPECT_GT(stored_key.id, 0);
  EXPECT_EQ(stored_key.user_id, stored_user.id);

  auto found = this->accounts().FindUser(stored_user.id);
  ASSERT_TRUE(found) << Describe(found);
  EXPECT_EQ(found->email, "Alice@Example.com");
  EXPECT_EQ(found->tier, "pro");
  EXPECT_EQ(found->created_at, kT0);
  EXPECT_EQ(*this->accounts().CountUsers(), 1);

  auto owner = this->accounts().FindKeyByHash(key.key_hash);
  ASSERT_TRUE(owner) << Describe(owner);
  EXPECT_EQ(owner->key.id, stored_key.id);
  EXPECT_EQ(owner->key.user_id, stored_user.id);
  EXPECT_EQ(owner->key.name, key.name);
  EXPECT_EQ(owner->key.prefix, key.prefix);
  EXPECT_EQ(owner->key.key_hash, key.key_hash);
  EXPECT_EQ(owner->key.permissions, core::kAllPermissions);
  EXPECT_EQ(owner->key.created_at, kT0);
  EXPECT_EQ(owner->key.expires_at, kT0 + 99);
  EXPECT_FALSE(owner->key.revoked_at.has_value());
  EXPECT_EQ(owner->user.id, stored_user.id);
  EXPECT_EQ(owner->user.email, "Alice@Example.com");
}

TYPED_TEST_P(AccountStoreContract, DuplicateEmailIsConflictWhateverItsCase) {
  ASSERT_TRUE(this->accounts().CreateUser(NewUser("bob@example.com"), NewKey("b1")));
  auto again = this->accounts().CreateUser(NewUser("BOB@Example.COM"), NewKey("b2"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(*this->accounts().CountUsers(), 1);
  // All or nothing: the failed user's key was not stored either.
  auto key = this->accounts().FindKeyByHash(Hash("b2"));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(AccountStoreContract, CreateUserWithTakenKeyHashCreatesNothing) {
  ASSERT_TRUE(this->accounts().CreateUser(NewUser("a@example.com"), NewKey("same")));
  auto again = this->accounts().CreateUser(NewUser("b@example.com"), NewKey("same"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(*this->accounts().CountUsers(), 1);
  // The email is still free.
  EXPECT_TRUE(this->accounts().CreateUser(NewUser("b@example.com"), NewKey("other")));
}

TYPED_TEST_P(AccountStoreContract, UnknownTierIsInvalidArgument) {
  core::User user = NewUser("t@example.com");
  user.tier = "platinum";
  auto created = this->accounts().CreateUser(user, NewKey("t"));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(*this->accounts().CountUsers(), 0);
}

TYPED_TEST_P(AccountStoreContract, FindUnknownUserIsNotFound) {
  auto found = this->accounts().FindUser(42);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(AccountStoreContract, ListUsersIsOldestFirst) {
  AddUser(this->accounts(), "second@example.com", kT0 + 10);
  AddUser(this->accounts(), "first@example.com", kT0);
  AddUser(this->accounts(), "third@example.com", kT0 + 20);
  auto users = this->accounts().ListUsers();
  ASSERT_TRUE(users) << Describe(users);
  std::vector<std::string> emails;
  for (const core::User& user : *users) emails.push_back(user.email);
  EXPECT_EQ(emails, (std::vector<std::string>{"first@example.com", "second@example.com",
                                              "third@example.com"}));
  EXPECT_EQ(*this->accounts().CountUsers(), 3);
}

TYPED_TEST_P(AccountStoreContract, SetUserStatusSuspendsAndReactivates) {
  auto [id, key_id] = AddUser(this->accounts(), "s@example.com");
  auto suspended = this->accounts().SetUserStatus(id, core::UserStatus::kSuspended);
  ASSERT_TRUE(suspended) << Describe(suspended);
  EXPECT_EQ(suspended->id, id);
  EXPECT_EQ(suspended->email, "s@example.com");
  EXPECT_EQ(suspended->status, core::UserStatus::kSuspended);
  EXPECT_EQ(this->accounts().FindUser(id)->status, core::UserStatus::kSuspended);
  // Authentication sees the owner's status through the key.
  auto owner = this->accounts().FindKeyByHash(Hash("k-s@example.com"));
  ASSERT_TRUE(owner) << Describe(owner);
  EXPECT_EQ(owner->key.id, key_id);
  EXPECT_EQ(owner->user.status, core::UserStatus::kSuspended);

  auto active = this->accounts().SetUserStatus(id, core::UserStatus::kActive);
  ASSERT_TRUE(active);
  EXPECT_EQ(active->status, core::UserStatus::kActive);
  EXPECT_EQ(this->accounts().FindKeyByHash(Hash("k-s@example.com"))->user.status,
            core::UserStatus::kActive);

  auto unknown = this->accounts().SetUserStatus(id + 100, core::UserStatus::kSuspended);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(AccountStoreContract, CreateKeyAndListKeysOldestFirst) {
  auto [id, first_key] = AddUser(this->accounts(), "k@example.com", kT0);
  auto later = this->accounts().CreateKey(this->KeyFor(id, "later", kT0 + 20));
  ASSERT_TRUE(later) << Describe(later);
  EXPECT_GT(later->id, 0);
  EXPECT_EQ(later->user_id, id);
  core::ApiKey reader = this->KeyFor(id, "reader", kT0 + 10);
  reader.permissions = core::kPermRead;
  auto read_only = this->accounts().CreateKey(reader);
  ASSERT_TRUE(read_only);

  auto keys = this->accounts().ListKeys(id);
  ASSERT_TRUE(keys) << Describe(keys);
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].id, first_key);
  EXPECT_EQ((*keys)[1].id, read_only->id);
  EXPECT_EQ((*keys)[1].permissions, core::kPermRead);
  EXPECT_EQ((*keys)[1].name, reader.name);
  EXPECT_EQ((*keys)[2].id, later->id);
  EXPECT_EQ((*keys)[2].permissions, core::kDefaultUserPermissions);

  auto other_user = AddUser(this->accounts(), "other@example.com").first;
  EXPECT_EQ(this->accounts().ListKeys(other_user)->size(), 1u);
  EXPECT_TRUE(this->accounts().ListKeys(other_user + 100)->empty());
}

TYPED_TEST_P(AccountStoreContract, CreateKeyForUnknownUserIsNotFound) {
  auto created = this->accounts().CreateKey(this->KeyFor(777, "nobody"));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(AccountStoreContract, CreateKeyWithStoredHashIsConflict) {
  auto id = AddUser(this->accounts(), "c@example.com").first;
  ASSERT_TRUE(this->accounts().CreateKey(this->KeyFor(id, "dup")));
  auto again = this->accounts().CreateKey(this->KeyFor(id, "dup"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(this->accounts().ListKeys(id)->size(), 2u);
}

TYPED_TEST_P(AccountStoreContract, PermissionsRoundTrip) {
  auto id = AddUser(this->accounts(), "p@example.com").first;
  for (core::Permissions p = 0; p <= core::kAllPermissions; ++p) {
    core::ApiKey key = this->KeyFor(id, Numbered("perm", p));
    key.permissions = p;
    ASSERT_TRUE(this->accounts().CreateKey(key));
    auto found = this->accounts().FindKeyByHash(key.key_hash);
    ASSERT_TRUE(found) << Describe(found);
    EXPECT_EQ(found->key.permissions, p);
  }
}

TYPED_TEST_P(AccountStoreContract, RevokeKeyOnceThenNotFound) {
  auto [id, key_id] = AddUser(this->accounts(), "r@example.com");
  ASSERT_TRUE(this->accounts().RevokeKey(key_id, id, kT0 + 5));

  // Still found by hash, with revoked_at set: the caller answers 401.
  auto owner = this->accounts().FindKeyByHash(Hash("k-r@example.com"));
  ASSERT_TRUE(owner) << Describe(owner);
  EXPECT_EQ(owner->key.revoked_at, kT0 + 5);
  auto keys = this->accounts().ListKeys(id);
  ASSERT_TRUE(keys && keys->size() == 1);
  EXPECT_EQ(keys->front().revoked_at, kT0 + 5);

  auto twice = this->accounts().RevokeKey(key_id, id, kT0 + 6);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(this->accounts().FindKeyByHash(Hash("k-r@example.com"))->key.revoked_at, kT0 + 5);
}

TYPED_TEST_P(AccountStoreContract, RevokeAnotherUsersKeyIsNotFound) {
  auto [alice, alice_key] = AddUser(this->accounts(), "alice@example.com");
  auto mallory = AddUser(this->accounts(), "mallory@example.com").first;
  auto revoked = this->accounts().RevokeKey(alice_key, mallory, kT0);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code, core::ErrorCode::kNotFound);
  EXPECT_FALSE(this->accounts().ListKeys(alice)->front().revoked_at.has_value());
  auto unknown = this->accounts().RevokeKey(alice_key + 1000, alice, kT0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(AccountStoreContract, FindKeyByUnknownHashIsNotFound) {
  AddUser(this->accounts(), "h@example.com");
  auto found = this->accounts().FindKeyByHash(Hash("unknown"));
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, core::ErrorCode::kNotFound);
}

REGISTER_TYPED_TEST_SUITE_P(AccountStoreContract, FreshStoreHasNoUsers,
                            CreateUserStoresTheUserAndItsFirstKey,
                            DuplicateEmailIsConflictWhateverItsCase,
                            CreateUserWithTakenKeyHashCreatesNothing, UnknownTierIsInvalidArgument,
                            FindUnknownUserIsNotFound, ListUsersIsOldestFirst,
                            SetUserStatusSuspendsAndReactivates, CreateKeyAndListKeysOldestFirst,
                            CreateKeyForUnknownUserIsNotFound, CreateKeyWithStoredHashIsConflict,
                            PermissionsRoundTrip, RevokeKeyOnceThenNotFound,
                            RevokeAnotherUsersKeyIsNotFound, FindKeyByUnknownHashIsNotFound);

}  // namespace kurz::testing
