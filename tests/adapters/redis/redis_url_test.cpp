#include "adapters/redis/redis_url.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "adapters/redis/shared_cache.hpp"

namespace kurz::adapters::redis {
namespace {

TEST(RedisUrl, SingleServerWithDefaults) {
  auto options = ParseRedisUrl("redis://cache.internal");
  ASSERT_TRUE(options) << options.error().detail;
  EXPECT_FALSE(options->cluster);
  ASSERT_EQ(options->nodes.size(), 1u);
  EXPECT_EQ(options->nodes[0], (Endpoint{"cache.internal", 6379}));
  EXPECT_EQ(options->db, 0);
  EXPECT_TRUE(options->password.empty());
}

TEST(RedisUrl, PortDatabaseAndCredentials) {
  auto options = ParseRedisUrl("redis://kurz:s3cret@127.0.0.1:26379/3");
  ASSERT_TRUE(options) << options.error().detail;
  EXPECT_EQ(options->nodes[0], (Endpoint{"127.0.0.1", 26379}));
  EXPECT_EQ(options->db, 3);
  EXPECT_EQ(options->username, "kurz");
  EXPECT_EQ(options->password, "s3cret");

  auto password_only = ParseRedisUrl("redis://:pw@h:1/");
  ASSERT_TRUE(password_only) << password_only.error().detail;
  EXPECT_EQ(password_only->username, "");
  EXPECT_EQ(password_only->password, "pw");
  EXPECT_EQ(password_only->db, 0);
}

TEST(RedisUrl, Ipv6Host) {
  auto options = ParseRedisUrl("redis://[::1]:6380");
  ASSERT_TRUE(options) << options.error().detail;
  EXPECT_EQ(options->nodes[0], (Endpoint{"::1", 6380}));
  EXPECT_EQ(options->nodes[0].ToString(), "[::1]:6380");
}

TEST(RedisUrl, ClusterSeeds) {
  auto options = ParseRedisUrl("redis-cluster://127.0.0.1:17001,127.0.0.1:17002,other:17003");
  ASSERT_TRUE(options) << options.error().detail;
  EXPECT_TRUE(options->cluster);
  ASSERT_EQ(options->nodes.size(), 3u);
  EXPECT_EQ(options->nodes[1], (Endpoint{"127.0.0.1", 17002}));
  EXPECT_EQ(options->nodes[2], (Endpoint{"other", 17003}));
}

TEST(RedisUrl, RejectsMalformedUrlsWithoutPrintingThePassword) {
  for (const char* url :
       {"http://h:1", "redis://", "redis://h:", "redis://h:0", "redis://h:70000", "redis://h:1x",
        "redis://h/x", "redis://h/-1", "redis://a:1,b:2", "redis-cluster://a:1/2",
        "redis-cluster://a:1,,b:2", "redis://h:1?timeout=3", "redis://[::1", "redis://u:pw@:1"}) {
    auto options = ParseRedisUrl(url);
    ASSERT_FALSE(options) << url;
    EXPECT_EQ(options.error().code, core::ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(options.error().detail.find("pw@"), std::string::npos) << options.error().detail;
  }
}

TEST(RedisUrl, RedactsPasswords) {
  EXPECT_EQ(RedactRedisUrl("redis://kurz:s3cret@h:1/2"), "redis://kurz:***@h:1/2");
  EXPECT_EQ(RedactRedisUrl("redis://s3cret@h:1"), "redis://***@h:1");
  EXPECT_EQ(RedactRedisUrl("redis-cluster://a:1,b:2"), "redis-cluster://a:1,b:2");
}

TEST(SharedCacheRecord, RoundTripsAndRejectsForeignValues) {
  ports::CachedRedirect value;
  value.state = core::LinkState::kActive;
  value.status = core::RedirectType::k307;
  value.location = "https://x.example/ a b";
  value.expires_at = 1'795'000'000'123'456;
  value.owner_id = 12;
  const std::string record = RedisSharedCache::Encode(value);
  EXPECT_EQ(record, "1 r 307 1795000000123456 12 https://x.example/ a b");
  EXPECT_EQ(RedisSharedCache::Decode(record), value);
  for (const char* foreign :
       {"", "1", "1 r", "2 r 301 0 0 x", "1 x 301 0 0 x", "1 r 301 0 0", "1 r 70000 0 0 x",
        "1 r 301 zero 0 x", "{\"json\":1}", "1 r 200 0 0 x", "1 r 309 0 0 x",
        // version 2: an options block that is missing, too long, not JSON or not an object
        "2 r 301 0 0 x", "2 r 301 0 0 99 {}", "2 r 301 0 0 2 [1x", "2 r 301 0 0 2 []x",
        "2 r 301 0 0 12 {\"rules\":7}x"}) {
    EXPECT_FALSE(RedisSharedCache::Decode(foreign).has_value()) << foreign;
  }
}

TEST(SharedCacheRecord, LinksWithOptionsAreVersionTwoAndPlainOnesStayVersionOne) {
  ports::CachedRedirect value;
  value.state = core::LinkState::kActive;
  value.status = core::RedirectType::k308;
  value.location = "https://x.example/ a b";
  auto options = std::make_shared<core::LinkOptions>();
  options->budget = true;
  options->expired_location = "https://x.example/over";
  value.options = options;
  const std::string record = RedisSharedCache::Encode(value);
  EXPECT_TRUE(record.starts_with("2 r 308 0 0 ")) << record;
  EXPECT_TRUE(record.ends_with("}https://x.example/ a b")) << record;
  auto decoded = RedisSharedCache::Decode(record);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, value);
  value.options = nullptr;
  EXPECT_TRUE(RedisSharedCache::Encode(value).starts_with("1 r 308 "));
}

TEST(SharedCacheRecord, ReadsTheRecordsEarlierVersionsWrote) {
  // Instances of the previous release share the cache during a rolling upgrade.
  auto active = RedisSharedCache::Decode("1 r 302 0 5 https://a.example/");
  ASSERT_TRUE(active);
  EXPECT_EQ(active->state, core::LinkState::kActive);
  EXPECT_EQ(active->status, core::RedirectType::k302);
  EXPECT_EQ(active->location, "https://a.example/");
  EXPECT_EQ(active->owner_id, 5);
  auto gone = RedisSharedCache::Decode("1 g 301 0 5 ");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->state, core::LinkState::kGone);
  auto not_found = RedisSharedCache::Decode("1 n 301 0 0 ");
  ASSERT_TRUE(not_found);
  EXPECT_EQ(not_found->state, core::LinkState::kNotFound);
  // And writes them so that those instances read this one's.
  EXPECT_EQ(RedisSharedCache::Encode(*gone), "1 g 301 0 5 ");
  EXPECT_EQ(RedisSharedCache::Encode(core::ResolvedLink{}), "1 n 301 0 0 ");
}

}  // namespace
}  // namespace kurz::adapters::redis
