// The read-routing decorators over fake stores: which calls go where, and what happens when a
// replica is down, slow to replicate or broken.
#include "adapters/routing/read_routing.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace kurz::adapters::routing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A LinkStore and StatsStore that answers from a map, or fails every call with `fail` when set,
// and counts its calls.
class FakeStore final : public ports::LinkStore, public ports::StatsStore {
 public:
  explicit FakeStore(std::string name) : name_(std::move(name)) {}

  std::map<std::string, core::Link, std::less<>> links;
  std::optional<core::ErrorCode> fail;
  int reads = 0;   // Find, SearchByOwner, ListTags, Stats, Series
  int writes = 0;  // Insert, InsertMany, Update, UseClick, SoftDelete, LeaseCodeBlock
  int duplicates = 0;

  Result<void> Insert(const core::Link& link) override {
    ++writes;
    if (fail) return Failure();
    links[link.code] = link;
    return {};
  }
  Result<core::Link> Find(std::string_view code) override {
    ++reads;
    if (fail) return Failure();
    auto it = links.find(code);
    if (it == links.end()) return core::Fail(core::ErrorCode::kNotFound, "no " + std::string(code));
    core::Link link = it->second;
    link.metadata_json = "{\"from\":\"" + name_ + "\"}";
    return link;
  }
  Result<std::optional<core::Link>> FindDuplicate(std::int64_t, std::string_view,
                                                  core::RedirectType) override {
    ++duplicates;
    if (fail) return Failure();
    return std::nullopt;
  }
  Result<std::vector<core::Link>> SearchByOwner(std::int64_t, const core::LinkQuery&) override {
    ++reads;
    if (fail) return Failure();
    std::vector<core::Link> out;
    core::Link marker;
    marker.code = name_;
    out.push_back(marker);
    return out;
  }
  Result<std::vector<core::TagCount>> ListTags(std::int64_t) override {
    ++reads;
    if (fail) return Failure();
    return std::vector<core::TagCount>{core::TagCount{name_, 1}};
  }
  Result<void> Update(const core::Link& link) override {
    ++writes;
    if (fail) return Failure();
    auto it = links.find(link.code);
    if (it == links.end()) return core::Fail(core::ErrorCode::kNotFound, "no " + link.code);
    it->second = link;
    return {};
  }
  Result<bool> UseClick(std::string_view) override {
    ++writes;
    if (fail) return Failure();
    return true;
  }
  Result<std::vector<Result<void>>> InsertMany(std::span<const core::Link> many) override {
    ++writes;
    if (fail) return Failure();
    std::vector<Result<void>> out;
    for (const core::Link& link : many) {
      links[link.code] = link;
      out.emplace_back();
    }
    return out;
  }
  Result<void> SoftDelete(std::string_view, std::int64_t, core::Micros) override {
    ++writes;
    if (fail) return Failure();
    return {};
  }
  Result<std::uint64_t> LeaseCodeBlock(std::uint64_t) override {
    ++writes;
    if (fail) return Failure();
    return 0;
  }
  Result<core::LinkStats> Stats(std::string_view, core::Date, core::Date) override {
    ++reads;
    if (fail) return Failure();
    core::LinkStats stats;
    stats.total_clicks = static_cast<std::int64_t>(name_.size());
    return stats;
  }
  Result<std::vector<core::BucketCount>> Series(std::string_view, core::Granularity, core::Micros,
                                                core::Micros) override {
    ++reads;
    if (fail) return Failure();
    return std::vector<core::BucketCount>{{.start = 0, .clicks = 1, .bot_clicks = 0}};
  }

 private:
  std::unexpected<core::Error> Failure() const { return core::Fail(*fail, name_ + " failed"); }

  std::string name_;
};

core::Link MakeLink(std::string code) {
  core::Link link;
  link.code = std::move(code);
  link.url = "https://example.com/";
  link.owner_id = 1;
  return link;
}

// Which store answered a Find (the fakes tag their answers).
std::string From(const Result<core::Link>& found) {
  if (!found) return "error: " + found.error().detail;
  return found->metadata_json.substr(9, found->metadata_json.size() - 11);
}

// A primary and two replicas holding the same links, with a clock the test moves.
class ReadRoutingTest : public ::testing::Test {
 protected:
  ReadRoutingTest()
      : set_(2, ReadRoutingOptions{.down_for = milliseconds(1000), .now = [this] { return now_; }}),
        links_(primary_, {&replica1_, &replica2_}, set_),
        stats_(primary_, {&replica1_, &replica2_}, set_) {
    for (FakeStore* store : {&primary_, &replica1_, &replica2_}) {
      store->links["abc"] = MakeLink("abc");
    }
  }

  void Advance(milliseconds by) { now_ += by; }

  steady_clock::time_point now_{};
  FakeStore primary_{"primary"};
  FakeStore replica1_{"replica1"};
  FakeStore replica2_{"replica2"};
  ReplicaSet set_;
  ReadRoutingLinkStore links_;
  ReadRoutingStatsStore stats_;
};

TEST_F(ReadRoutingTest, ReadsGoRoundRobinOverTheReplicas) {
  std::map<std::string, int> answered;
  for (int i = 0; i < 10; ++i) ++answered[From(links_.Find("abc"))];
  EXPECT_EQ(answered["replica1"], 5);
  EXPECT_EQ(answered["replica2"], 5);
  EXPECT_EQ(primary_.reads, 0);

  auto list = links_.ListByOwner(1, std::nullopt, 10);
  ASSERT_TRUE(list);
  EXPECT_NE(list->front().code, "primary");
  ASSERT_TRUE(stats_.Stats("abc", core::Date{0}, core::Date{1}));
  ASSERT_TRUE(stats_.Series("abc", core::Granularity::kDay, 0, 1));
  EXPECT_EQ(primary_.reads, 0);
  EXPECT_EQ(replica1_.reads + replica2_.reads, 13);
  EXPECT_EQ(set_.replica_reads(0) + set_.replica_reads(1), 13u);
  EXPECT_EQ(set_.primary_reads(), 0u);
  EXPECT_EQ(set_.fallbacks(), 0u);
}

TEST_F(ReadRoutingTest, WritesAndDuplicateChecksNeverGoToReplicas) {
  ASSERT_TRUE(links_.Insert(MakeLink("new")));
  ASSERT_TRUE(links_.SoftDelete("abc", 1, 5));
  ASSERT_TRUE(links_.LeaseCodeBlock(100));
  ASSERT_TRUE(links_.FindDuplicate(1, "https://example.com/", core::RedirectType::k301));
  EXPECT_EQ(primary_.writes, 3);
  EXPECT_EQ(primary_.duplicates, 1);
  for (FakeStore* replica : {&replica1_, &replica2_}) {
    EXPECT_EQ(replica->writes, 0);
    EXPECT_EQ(replica->duplicates, 0);
    EXPECT_EQ(replica->reads, 0);
  }
  EXPECT_TRUE(primary_.links.contains("new"));
  EXPECT_FALSE(replica1_.links.contains("new"));
}

TEST_F(ReadRoutingTest, SearchesAndTagsGoToReplicasWhileUpdatesClicksAndBulkGoToThePrimary) {
  core::LinkQuery query;
  query.tags = {"x"};
  auto found = links_.SearchByOwner(1, query);
  ASSERT_TRUE(found);
  EXPECT_NE(found->front().code, "primary");
  auto tags = links_.ListTags(1);
  ASSERT_TRUE(tags);
  EXPECT_NE(tags->front().tag, "primary");
  EXPECT_EQ(primary_.reads, 0);
  EXPECT_EQ(replica1_.reads + replica2_.reads, 2);

  core::Link changed = MakeLink("abc");
  changed.url = "https://changed.example/";
  ASSERT_TRUE(links_.Update(changed));
  ASSERT_TRUE(links_.UseClick("abc"));
  const core::Link many[] = {MakeLink("m1"), MakeLink("m2")};
  ASSERT_TRUE(links_.InsertMany(many));
  EXPECT_EQ(primary_.writes, 3);
  EXPECT_EQ(replica1_.writes + replica2_.writes, 0);
  EXPECT_TRUE(primary_.links.contains("m2"));
  // The updated link is read back from the primary: a lagging replica still has the old url.
  EXPECT_EQ(From(links_.Find("abc")), "primary");
}

TEST_F(ReadRoutingTest, WritesFailWhenThePrimaryFailsEvenWithHealthyReplicas) {
  primary_.fail = core::ErrorCode::kUnavailable;
  auto inserted = links_.Insert(MakeLink("new"));
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, core::ErrorCode::kUnavailable);
  EXPECT_FALSE(links_.FindDuplicate(1, "u", core::RedirectType::k301));
  EXPECT_EQ(replica1_.writes + replica2_.writes + replica1_.duplicates + replica2_.duplicates, 0);
  // Reads still work from the replicas.
  EXPECT_TRUE(links_.Find("abc"));
}

TEST_F(ReadRoutingTest, AnUnavailableReplicaIsSkippedAndTheNextAnswers) {
  replica1_.fail = core::ErrorCode::kUnavailable;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(From(links_.Find("abc")), "replica2") << i;
  }
  // Asked once, then left out.
  EXPECT_EQ(replica1_.reads, 1);
  EXPECT_TRUE(set_.IsDown(0));
  EXPECT_FALSE(set_.IsDown(1));
  EXPECT_EQ(set_.replica_errors(0), 1u);
  EXPECT_EQ(set_.replica_reads(1), 6u);
  EXPECT_EQ(primary_.reads, 0);
  EXPECT_EQ(set_.fallbacks(), 0u);
}

TEST_F(ReadRoutingTest, AllReplicasDownFallsBackToThePrimary) {
  replica1_.fail = core::ErrorCode::kUnavailable;
  replica2_.fail = core::ErrorCode::kTimeout;
  EXPECT_EQ(From(links_.Find("abc")), "primary");
  auto list = links_.ListByOwner(1, std::nullopt, 10);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->front().code, "primary");
  EXPECT_TRUE(stats_.Stats("abc", core::Date{0}, core::Date{1}));
  EXPECT_TRUE(stats_.Series("abc", core::Granularity::kMinute, 0, 1));
  EXPECT_EQ(primary_.reads, 4);
  // Each replica was asked once; after that they were left out.
  EXPECT_EQ(replica1_.reads, 1);
  EXPECT_EQ(replica2_.reads, 1);
  EXPECT_EQ(set_.fallbacks(), 4u);
  EXPECT_EQ(set_.primary_reads(), 4u);
}

TEST_F(ReadRoutingTest, ADownReplicaIsTriedAgainAfterItsPauseAndUsedWhenBack) {
  replica1_.fail = core::ErrorCode::kUnavailable;
  replica2_.fail = core::ErrorCode::kUnavailable;
  EXPECT_EQ(From(links_.Find("abc")), "primary");
  Advance(milliseconds(500));
  EXPECT_EQ(From(links_.Find("abc")), "primary");
  EXPECT_EQ(replica1_.reads + replica2_.reads, 2);  // not asked within the pause

  Advance(milliseconds(600));  // the pause is over: asked again, still down
  EXPECT_EQ(From(links_.Find("abc")), "primary");
  EXPECT_EQ(replica1_.reads + replica2_.reads, 4);

  replica1_.fail.reset();  // back
  Advance(milliseconds(1001));
  EXPECT_EQ(From(links_.Find("abc")), "replica1");
  EXPECT_FALSE(set_.IsDown(0));
  EXPECT_TRUE(set_.IsDown(1));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(From(links_.Find("abc")), "replica1");
  EXPECT_EQ(set_.replica_reads(0), 5u);
}

TEST_F(ReadRoutingTest, NotFoundOnAReplicaIsAskedAgainOnThePrimary) {
  // Created on the primary a moment ago, not replicated yet.
  primary_.links["new"] = MakeLink("new");
  EXPECT_EQ(From(links_.Find("new")), "primary");
  EXPECT_EQ(set_.rechecks(), 1u);
  EXPECT_EQ(set_.fallbacks(), 0u);
  // Replication lag is no fault: the replica stays in.
  EXPECT_FALSE(set_.IsDown(0));
  EXPECT_FALSE(set_.IsDown(1));

  // Not anywhere: not_found, from the primary.
  auto missing = links_.Find("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(set_.rechecks(), 2u);
  EXPECT_EQ(primary_.reads, 2);
}

TEST_F(ReadRoutingTest, ALinkThisProcessDeletedIsLookedUpOnThePrimaryForAWhile) {
  // The replicas have not replayed the delete yet: they would answer the link as live.
  ASSERT_TRUE(links_.SoftDelete("abc", 1, 5));
  primary_.links["abc"].deleted_at = 5;
  auto found = links_.Find("abc");
  ASSERT_TRUE(found);
  EXPECT_EQ(From(found), "primary");
  EXPECT_TRUE(found->deleted_at.has_value());
  EXPECT_EQ(set_.primary_reads(), 1u);
  EXPECT_EQ(set_.fallbacks(), 0u);
  // Other codes still read from the replicas.
  replica1_.links["other"] = primary_.links["other"] = MakeLink("other");
  replica2_.links["other"] = MakeLink("other");
  EXPECT_NE(From(links_.Find("other")), "primary");

  Advance(milliseconds(9'000));
  EXPECT_EQ(From(links_.Find("abc")), "primary");
  Advance(milliseconds(1'001));  // past own_writes_for (10 s)
  EXPECT_NE(From(links_.Find("abc")), "primary");
}

TEST_F(ReadRoutingTest, AFailedDeleteIsRememberedUnlessNothingWasThere) {
  primary_.fail = core::ErrorCode::kTimeout;  // may have committed
  EXPECT_FALSE(links_.SoftDelete("abc", 1, 5));
  primary_.fail.reset();
  EXPECT_EQ(From(links_.Find("abc")), "primary");
  primary_.fail = core::ErrorCode::kNotFound;  // nothing changed
  EXPECT_FALSE(links_.SoftDelete("xyz", 1, 5));
  primary_.fail.reset();
  replica1_.links["xyz"] = replica2_.links["xyz"] = MakeLink("xyz");
  EXPECT_NE(From(links_.Find("xyz")), "primary");
}

TEST_F(ReadRoutingTest, MarkDownLeavesAReplicaOutForAWhile) {
  set_.MarkDown(1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(From(links_.Find("abc")), "replica1");
  Advance(milliseconds(1001));
  std::map<std::string, int> answered;
  for (int i = 0; i < 4; ++i) ++answered[From(links_.Find("abc"))];
  EXPECT_EQ(answered["replica2"], 2);
  set_.MarkDown(7);  // no such replica: ignored
}

TEST_F(ReadRoutingTest, OtherReplicaFailuresFallBackWithoutLeavingItOut) {
  replica1_.fail = core::ErrorCode::kInternal;  // e.g. a migration not replayed yet
  replica2_.fail = core::ErrorCode::kInternal;
  EXPECT_EQ(From(links_.Find("abc")), "primary");
  EXPECT_FALSE(set_.IsDown(0));
  EXPECT_FALSE(set_.IsDown(1));
  EXPECT_EQ(set_.replica_errors(0) + set_.replica_errors(1), 2u);
  EXPECT_EQ(set_.fallbacks(), 1u);
}

TEST_F(ReadRoutingTest, TheCallersMistakeIsAnsweredByTheReplica) {
  replica1_.fail = core::ErrorCode::kInvalidArgument;
  replica2_.fail = core::ErrorCode::kInvalidArgument;
  auto stats = stats_.Stats("abc", core::Date{5}, core::Date{1});
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(primary_.reads, 0);
  EXPECT_EQ(replica1_.reads + replica2_.reads, 1);
}

TEST_F(ReadRoutingTest, ThePrimarysFailureIsTheAnswerWhenNothingElseCan) {
  replica1_.fail = core::ErrorCode::kUnavailable;
  replica2_.fail = core::ErrorCode::kUnavailable;
  primary_.fail = core::ErrorCode::kUnavailable;
  auto found = links_.Find("abc");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(found.error().detail, "primary failed");
}

TEST(ReadRoutingNoReplicas, EverythingGoesToThePrimary) {
  FakeStore primary("primary");
  primary.links["abc"] = MakeLink("abc");
  ReplicaSet set(0);
  ReadRoutingLinkStore links(primary, {}, set);
  EXPECT_EQ(From(links.Find("abc")), "primary");
  EXPECT_EQ(set.primary_reads(), 1u);
  EXPECT_EQ(set.fallbacks(), 0u);
}

TEST(ReadRoutingConcurrency, CountersAddUpUnderConcurrentReads) {
  ReplicaSet set(2);
  // Stores with atomic counters (the fakes above are not thread-safe).
  struct Quiet final : ports::StatsStore {
    std::atomic<int> calls{0};
    Result<core::LinkStats> Stats(std::string_view, core::Date, core::Date) override {
      ++calls;
      return core::LinkStats{};
    }
    Result<std::vector<core::BucketCount>> Series(std::string_view, core::Granularity, core::Micros,
                                                  core::Micros) override {
      ++calls;
      return std::vector<core::BucketCount>{};
    }
  } quiet_primary, quiet1, quiet2;
  ReadRoutingStatsStore stats(quiet_primary, {&quiet1, &quiet2}, set);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) ASSERT_TRUE(stats.Stats("abc", {}, {}));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(quiet_primary.calls, 0);
  EXPECT_EQ(quiet1.calls + quiet2.calls, 4000);
  EXPECT_EQ(set.replica_reads(0) + set.replica_reads(1), 4000u);
  EXPECT_EQ(quiet1.calls, 2000);  // strict round-robin
}

}  // namespace
}  // namespace kurz::adapters::routing
