#include "core/account.hpp"

#include <gtest/gtest.h>

namespace kurz::core {
namespace {

TEST(AccountTest, UserStatusNamesMatchTheApi) {
  EXPECT_EQ(ToString(UserStatus::kActive), "active");
  EXPECT_EQ(ToString(UserStatus::kSuspended), "suspended");
}

TEST(AccountTest, DefaultPermissionsAreCreateReadDeleteWithoutAdmin) {
  EXPECT_EQ(kDefaultUserPermissions & kPermAdmin, 0);
  EXPECT_NE(kDefaultUserPermissions & kPermCreate, 0);
  EXPECT_NE(kDefaultUserPermissions & kPermRead, 0);
  EXPECT_NE(kDefaultUserPermissions & kPermDelete, 0);
  EXPECT_NE(kAllPermissions & kPermAdmin, 0);
}

}  // namespace
}  // namespace kurz::core
