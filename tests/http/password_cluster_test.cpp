// The password failure limit in cluster mode: two kurz instances whose limits share one Redis
// ($KURZ_TEST_REDIS_URL) count one client's wrong tries on a link together, through HTTP.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "adapters/redis/attempt_counter.hpp"
#include "adapters/redis/redis_test_support.hpp"
#include "http/password_link_harness.hpp"

namespace kurz::http::testing {
namespace {

struct SharedRedis {
  SharedRedis()
      : url(kurz::testing::SingleRedisUrl()),
        prefix(kurz::testing::UniquePrefix()),
        client(kurz::testing::OptionsFor(url)),
        counter(client, prefix) {}
  ~SharedRedis() { kurz::testing::DeleteKeysWithPrefix(url, prefix); }

  std::string url;
  std::string prefix;
  adapters::redis::RedisClient client;
  adapters::redis::RedisAttemptCounter counter;
};

class PasswordClusterTest : public ::testing::Test {
 protected:
  SharedRedis redis_;
  PasswordLinkHarness kurz_{&redis_.counter};
};

TEST_F(PasswordClusterTest, WrongTriesOnEitherInstanceCountTogether) {
  const std::string code = kurz_.Create({{"password", "correct horse"}});
  for (int i = 0; i < 5; ++i) {
    const Answer a = kurz_.Post(code, "password=guess", 1, {}, i % 2);
    EXPECT_EQ(a.status, 401) << "try " << i + 1 << " on instance " << i % 2 << ": " << a.Describe();
  }
  for (int instance : {0, 1}) {
    const Answer refused = kurz_.Post(code, "password=correct+horse", 1, {}, instance);
    EXPECT_EQ(refused.status, 429) << "instance " << instance << ": " << refused.Describe();
    EXPECT_TRUE(refused.Header("Retry-After")) << instance;
  }
  // Right tries forgiven on one instance do not count on the other.
  EXPECT_EQ(kurz_.Post(code, "password=correct+horse", 2, {}, 0).status, 301);
  EXPECT_EQ(kurz_.Post(code, "password=correct+horse", 2, {}, 0).status, 301);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(kurz_.Post(code, "password=x", 2, {}, 1).status, 401);
  EXPECT_EQ(kurz_.Post(code, "password=x", 2, {}, 1).status, 429);
}

TEST_F(PasswordClusterTest, WithoutTheSharedStoreEachInstanceCountsAlone) {
  // The same two instances without Redis: instance 1 has not seen instance 0's tries.
  PasswordLinkHarness local;
  const std::string code = local.Create({{"password", "correct horse"}});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(local.Post(code, "password=guess", 1, {}, 0).status, 401);
  EXPECT_EQ(local.Post(code, "password=guess", 1, {}, 0).status, 429);
  EXPECT_EQ(local.Post(code, "password=correct+horse", 1, {}, 1).status, 301);
}

}  // namespace
}  // namespace kurz::http::testing
