// Slot routing against the 3-master test cluster ($KURZ_TEST_REDIS_CLUSTER_URL): slots as the
// server computes them, discovery from one seed, ASK while a slot migrates and MOVED after it
// moved (the test moves an empty slot between masters and back), and pub/sub across nodes.
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "adapters/contract/invalidation_bus_contract.hpp"
#include "adapters/redis/redis_test_support.hpp"

namespace kurz::testing {
namespace {

using adapters::redis::Endpoint;
using adapters::redis::KeySlot;
using adapters::redis::RedisClient;
using adapters::redis::RedisInvalidationBus;
using adapters::redis::RedisSharedCache;
using adapters::redis::Reply;

struct ScopeExit {
  std::function<void()> run;
  ~ScopeExit() { run(); }
};

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = ClusterRedisUrl();
    nodes_ = OptionsFor(url_).nodes;
    ASSERT_GE(nodes_.size(), 3u) << "list every master in " << url_;
  }
  void TearDown() override { DeleteKeysWithPrefix(url_, prefix_); }

  static std::string Slot(std::uint16_t slot) { return std::to_string(slot); }

  std::string Id(const Endpoint& node) { return RunOn(node, {"CLUSTER", "MYID"}).str; }

  void ExpectOk(const Reply& reply, const std::string& what) {
    EXPECT_EQ(reply.type, Reply::Type::kStatus) << what << ": " << reply.str;
  }

  // Moves an empty slot the way redis-cli --cluster reshard does: IMPORTING on the target,
  // MIGRATING on the source, then NODE on the target, the source and every other master.
  void MoveEmptySlot(std::uint16_t slot, const Endpoint& from, const Endpoint& to) {
    ExpectOk(RunOn(to, {"CLUSTER", "SETSLOT", Slot(slot), "IMPORTING", Id(from)}), "IMPORTING");
    ExpectOk(RunOn(from, {"CLUSTER", "SETSLOT", Slot(slot), "MIGRATING", Id(to)}), "MIGRATING");
    FinishMove(slot, from, to);
  }
  void FinishMove(std::uint16_t slot, const Endpoint& from, const Endpoint& to) {
    const std::string to_id = Id(to);
    ExpectOk(RunOn(to, {"CLUSTER", "SETSLOT", Slot(slot), "NODE", to_id}), "NODE on target");
    ExpectOk(RunOn(from, {"CLUSTER", "SETSLOT", Slot(slot), "NODE", to_id}), "NODE on source");
    for (const Endpoint& node : nodes_) {
      if (node == from || node == to) continue;
      ExpectOk(RunOn(node, {"CLUSTER", "SETSLOT", Slot(slot), "NODE", to_id}), "NODE elsewhere");
    }
  }

  std::string url_;
  std::vector<Endpoint> nodes_;
  std::string prefix_ = UniquePrefix();
};

TEST_F(RedisClusterTest, KeySlotsAgreeWithTheServer) {
  for (int i = 0; i < 40; ++i) {
    for (const std::string& key :
         {Numbered(prefix_ + "link:", i), Numbered("{tag}", i), Numbered("a{", i) + "}b"}) {
      const Reply server = RunOn(nodes_[0], {"CLUSTER", "KEYSLOT", key});
      EXPECT_EQ(server.integer, KeySlot(key)) << key;
    }
  }
}

TEST_F(RedisClusterTest, OneSeedIsEnoughToReachEveryMaster) {
  RedisClient client(OptionsFor("redis-cluster://" + nodes_[0].ToString()));
  RedisSharedCache cache(client, prefix_);
  ports::CachedRedirect value;
  value.state = core::LinkState::kActive;
  std::set<std::string> owners;
  for (int i = 0; i < 60; ++i) {
    value.location = Numbered("https://example.com/", i);
    const std::string code = Numbered("code", i);
    auto put = cache.Put(code, value, 60 * core::kMicrosPerSecond);
    ASSERT_TRUE(put) << Describe(put);
    const auto owner = client.NodeForKey(prefix_ + "link:" + code);
    ASSERT_TRUE(owner.has_value());
    owners.insert(owner->ToString());
  }
  EXPECT_EQ(owners.size(), 3u);
  for (int i = 0; i < 60; ++i) {
    auto got = cache.Get(Numbered("code", i));
    ASSERT_TRUE(got && got->has_value()) << Describe(got);
    EXPECT_EQ((*got)->location, Numbered("https://example.com/", i));
  }
  EXPECT_EQ(client.stats().moved, 0u) << "the slot map should have been right from the start";
}

TEST_F(RedisClusterTest, FollowsAskWhileASlotMigratesAndMovedAfterItMoved) {
  RedisClient client(OptionsFor(url_));
  RedisSharedCache cache(client, prefix_);

  // A code whose slot holds no key, so that it can be moved without migrating data.
  std::string code;
  std::string key;
  Endpoint source;
  for (int i = 0; i < 50 && code.empty(); ++i) {
    const std::string candidate = Numbered("mig", i);
    const std::string candidate_key = prefix_ + "link:" + candidate;
    auto miss = cache.Get(candidate);  // also loads the slot map
    ASSERT_TRUE(miss) << Describe(miss);
    const auto owner = client.NodeForKey(candidate_key);
    ASSERT_TRUE(owner.has_value());
    const Reply count = RunOn(*owner, {"CLUSTER", "COUNTKEYSINSLOT", Slot(KeySlot(candidate_key))});
    if (count.integer == 0) {
      code = candidate;
      key = candidate_key;
      source = *owner;
    }
  }
  ASSERT_FALSE(code.empty()) << "no empty slot found";
  const std::uint16_t slot = KeySlot(key);
  const Endpoint target = source == nodes_[0] ? nodes_[1] : nodes_[0];
  Endpoint owner_now = source;
  // Whatever happens below, give the slot back to its source, empty and stable.
  ScopeExit restore{[&] {
    try {
      for (const Endpoint& node : nodes_) RunOn(node, {"CLUSTER", "SETSLOT", Slot(slot), "STABLE"});
      RunOn(owner_now, {"DEL", key});
      if (!(owner_now == source)) MoveEmptySlot(slot, target, source);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not restore slot " << slot << ": " << e.what();
    }
  }};

  // Migration in progress: the source answers ASK for keys it does not have.
  ExpectOk(RunOn(target, {"CLUSTER", "SETSLOT", Slot(slot), "IMPORTING", Id(source)}), "IMPORTING");
  ExpectOk(RunOn(source, {"CLUSTER", "SETSLOT", Slot(slot), "MIGRATING", Id(target)}), "MIGRATING");
  const auto before = client.stats();
  ports::CachedRedirect value;
  value.state = core::LinkState::kActive;
  value.location = "https://migrating.example/";
  auto put = cache.Put(code, value, 60 * core::kMicrosPerSecond);
  ASSERT_TRUE(put) << Describe(put);
  EXPECT_GT(client.stats().asked, before.asked);
  EXPECT_EQ(RunOn(target, {"CLUSTER", "COUNTKEYSINSLOT", Slot(slot)}).integer, 1)
      << "ASKING then SET should have written to the importing node";
  auto during = cache.Get(code);
  ASSERT_TRUE(during && during->has_value()) << Describe(during);
  EXPECT_EQ((*during)->location, value.location);

  // Migration done: the client's map still names the source, which now answers MOVED.
  FinishMove(slot, source, target);
  owner_now = target;
  auto after = cache.Get(code);
  ASSERT_TRUE(after && after->has_value()) << Describe(after);
  EXPECT_EQ((*after)->location, value.location);
  EXPECT_GT(client.stats().moved, before.moved);
  EXPECT_EQ(client.NodeForKey(key), target) << "MOVED should update the slot map";
  const auto moved = client.stats().moved;
  EXPECT_TRUE(cache.Get(code));
  EXPECT_EQ(client.stats().moved, moved) << "the next call should go straight to the new owner";
  ASSERT_TRUE(cache.Remove(code));
}

// A pipeline over a migrating slot: the source runs the commands on keys it still has and
// answers ASK for the others, which alone go on to the importing node; replies keep their order.
TEST_F(RedisClusterTest, APipelineDuringAMigrationSendsOnlyTheAskedCommandsOn) {
  RedisClient client(OptionsFor(url_));
  ASSERT_TRUE(client.RefreshSlots());
  std::string tag;
  Endpoint source;
  for (int i = 0; i < 50 && tag.empty(); ++i) {
    const std::string candidate = prefix_ + Numbered("{pipe", i) + "}:";
    const auto owner = client.NodeForKey(candidate);
    ASSERT_TRUE(owner.has_value());
    if (RunOn(*owner, {"CLUSTER", "COUNTKEYSINSLOT", Slot(KeySlot(candidate))}).integer == 0) {
      tag = candidate;
      source = *owner;
    }
  }
  ASSERT_FALSE(tag.empty()) << "no empty slot found";
  const std::uint16_t slot = KeySlot(tag);
  const Endpoint target = source == nodes_[0] ? nodes_[1] : nodes_[0];
  const std::string a = tag + "a";
  const std::string b = tag + "b";
  auto pipeline = [&](std::vector<std::vector<std::string_view>> commands) {
    std::vector<adapters::redis::Args> args(commands.begin(), commands.end());
    return client.Pipeline(tag, args);
  };
  ExpectOk(RunOn(source, {"SET", a, "1"}), "SET on the source");
  ScopeExit restore{[&] {
    try {
      (void)pipeline({{"DEL", a}, {"DEL", b}});  // while migrating: ASKING reaches the target
      for (const Endpoint& node : nodes_) RunOn(node, {"CLUSTER", "SETSLOT", Slot(slot), "STABLE"});
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not restore slot " << slot << ": " << e.what();
    }
  }};
  ExpectOk(RunOn(target, {"CLUSTER", "SETSLOT", Slot(slot), "IMPORTING", Id(source)}), "IMPORTING");
  ExpectOk(RunOn(source, {"CLUSTER", "SETSLOT", Slot(slot), "MIGRATING", Id(target)}), "MIGRATING");

  const auto before = client.stats();
  auto replies = pipeline({{"INCRBY", a, "1"}, {"INCRBY", b, "5"}, {"GET", a}, {"GET", b}});
  ASSERT_TRUE(replies) << Describe(replies);
  ASSERT_EQ(replies->size(), 4u);
  EXPECT_EQ((*replies)[0].integer, 2);
  EXPECT_EQ((*replies)[1].integer, 5);
  EXPECT_EQ((*replies)[2].str, "2");
  EXPECT_EQ((*replies)[3].str, "5");
  EXPECT_GT(client.stats().asked, before.asked);
  EXPECT_EQ(RunOn(source, {"CLUSTER", "COUNTKEYSINSLOT", Slot(slot)}).integer, 1);
  EXPECT_EQ(RunOn(target, {"CLUSTER", "COUNTKEYSINSLOT", Slot(slot)}).integer, 1)
      << "only the command on the missing key should have gone to the importing node";
}

TEST_F(RedisClusterTest, PublishOnOneNodeReachesSubscribersOnEveryNode) {
  // Each subscriber's client knows a single seed, so each subscribes on a different node.
  std::vector<std::unique_ptr<RedisClient>> clients;
  std::vector<std::unique_ptr<Inbox>> inboxes;
  std::vector<std::unique_ptr<RedisInvalidationBus>> buses;
  const std::string channel = prefix_ + "invalidate";
  for (const Endpoint& node : nodes_) {
    clients.push_back(
        std::make_unique<RedisClient>(OptionsFor("redis-cluster://" + node.ToString())));
    inboxes.push_back(std::make_unique<Inbox>());
    buses.push_back(std::make_unique<RedisInvalidationBus>(*clients.back(), channel));
    auto subscribed = buses.back()->Subscribe(inboxes.back()->Handler());
    ASSERT_TRUE(subscribed) << Describe(subscribed);
  }
  ASSERT_TRUE(buses.front()->Publish("everywhere"));
  for (auto& inbox : inboxes) {
    ASSERT_TRUE(inbox->WaitForCodes(1));
    EXPECT_EQ(inbox->codes(), std::vector<std::string>{"everywhere"});
  }
  buses.clear();  // stop the threads before the inboxes go
}

}  // namespace
}  // namespace kurz::testing
