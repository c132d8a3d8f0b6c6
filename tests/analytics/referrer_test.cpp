#include "analytics/referrer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kurz::analytics {
namespace {

TEST(ReferrerHost, KeepsOnlyTheLowercasedHost) {
  EXPECT_EQ(ReferrerHost("https://News.YCombinator.com/item?id=42#top"), "news.ycombinator.com");
  EXPECT_EQ(ReferrerHost("http://example.org"), "example.org");
  EXPECT_EQ(ReferrerHost("https://t.co/"), "t.co");
  EXPECT_EQ(ReferrerHost("https://www.google.com/search?q=a:b/c"), "www.google.com");
}

TEST(ReferrerHost, DropsPortUserInfoAndTrailingDot) {
  EXPECT_EQ(ReferrerHost("https://user:secret@example.com:8443/x"), "example.com");
  EXPECT_EQ(ReferrerHost("https://example.com./"), "example.com");
  EXPECT_EQ(ReferrerHost("http://[2001:DB8::1]:8080/path"), "2001:db8::1");
  EXPECT_EQ(ReferrerHost("http://192.0.2.1:80/"), "192.0.2.1");
}

TEST(ReferrerHost, AppSchemesAndNetworkPaths) {
  EXPECT_EQ(ReferrerHost("android-app://com.google.android.gm/"), "com.google.android.gm");
  EXPECT_EQ(ReferrerHost("//cdn.example.net/a"), "cdn.example.net");
  EXPECT_EQ(ReferrerHost("example.com/page"), "example.com");
}

TEST(ReferrerHost, NoHeaderIsDirect) {
  EXPECT_EQ(ReferrerHost(""), "(direct)");
  EXPECT_EQ(ReferrerHost("   "), "(direct)");
}

TEST(ReferrerHost, GarbageIsUnknownNotAHost) {
  EXPECT_EQ(ReferrerHost("https:///path-only"), "(unknown)");
  EXPECT_EQ(ReferrerHost("https://exa mple.com/"), "(unknown)");
  EXPECT_EQ(ReferrerHost("https://<script>/"), "(unknown)");
  EXPECT_EQ(ReferrerHost("http://[::1/"), "(unknown)");
  EXPECT_EQ(ReferrerHost("https://" + std::string(300, 'a') + ".com/"), "(unknown)");
  EXPECT_EQ(ReferrerHost("\xff\xfe"), "(unknown)");
}

}  // namespace
}  // namespace kurz::analytics
