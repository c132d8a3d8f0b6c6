#include "adapters/redis/key_slot.hpp"

#include <gtest/gtest.h>

namespace kurz::adapters::redis {
namespace {

TEST(KeySlot, Crc16KnownVectors) {
  EXPECT_EQ(Crc16("123456789"), 0x31C3);  // the CRC-16/XMODEM check value
  EXPECT_EQ(Crc16(""), 0);
}

// Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
TEST(KeySlot, MatchesRedisCluster) {
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("hello"), 866);
  EXPECT_EQ(KeySlot("user1000"), KeySlot("{user1000}"));
}

TEST(KeySlot, HashTags) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  // Only the first {...} counts, and an empty one means the whole key is hashed.
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % kClusterSlots);
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  EXPECT_EQ(KeySlot("foo{bar"), Crc16("foo{bar") % kClusterSlots);
}

}  // namespace
}  // namespace kurz::adapters::redis
