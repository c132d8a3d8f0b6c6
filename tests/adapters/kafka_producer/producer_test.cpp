#include "adapters/kafka/producer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kafka/spool.hpp"
#include "adapters/temp_dir.hpp"
#include "mock_cluster.hpp"

namespace kurz::adapters::kafka {
namespace {

using namespace std::chrono_literals;
using kurz::testing::TempDir;
using testing::ConsumedMessage;
using testing::MockCluster;
using testing::ReadTopic;
using testing::WaitFor;

constexpr char kTopic[] = "click-events";
constexpr int kPartitions = 12;

std::string Key(int i) { return "code" + std::to_string(i % 13); }
std::string Payload(int i) { return "{\"event\":" + std::to_string(i) + "}"; }

ProducerOptions Options(const MockCluster& cluster, const std::filesystem::path& spool) {
  ProducerOptions options;
  options.brokers = cluster.bootstraps();
  options.topic = kTopic;
  options.spool_dir = spool;
  options.stall_timeout = 2s;
  options.extra = {{"log_level", "3"}};
  return options;
}

std::unique_ptr<KafkaEventSink> OpenSink(ProducerOptions options) {
  auto sink = KafkaEventSink::Open(std::move(options));
  EXPECT_TRUE(sink) << sink.error().detail;
  return sink ? std::move(*sink) : nullptr;
}

std::size_t SegmentCount(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    n += e.path().extension() == ".spool";
  return n;
}

// Index of each payload "{"event":i}" seen, with how often.
std::map<std::string, int> CountPayloads(const std::vector<ConsumedMessage>& messages) {
  std::map<std::string, int> counts;
  for (const auto& m : messages) ++counts[m.payload];
  return counts;
}

// Within one key, payload numbers must rise with the offset (one key lives in one partition).
void ExpectPerKeyOrder(const std::vector<ConsumedMessage>& messages) {
  std::map<std::string, std::pair<std::int32_t, int>> last;  // key -> partition, last event
  for (const auto& m : messages) {                           // sorted by partition, offset
    const int event = std::stoi(m.payload.substr(9));
    auto [it, fresh] = last.try_emplace(m.key, m.partition, event);
    if (fresh) continue;
    EXPECT_EQ(it->second.first, m.partition) << "key " << m.key << " in two partitions";
    EXPECT_LT(it->second.second, event) << "key " << m.key << " out of order";
    it->second.second = event;
  }
}

TEST(KafkaEventSink, DeliversEveryEventOnceWithKeyOrderAndJavaPartitioning) {
  MockCluster cluster(kTopic, kPartitions);
  TempDir spool;
  auto sink = OpenSink(Options(cluster, spool.path()));
  ASSERT_TRUE(sink);
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().connected; }, 5s));  // probed while idle
  constexpr int kEvents = 500;
  for (int i = 0; i < kEvents; ++i) sink->Publish(Key(i), Payload(i));
  EXPECT_TRUE(sink->Flush(15s));

  const auto stats = sink->Stats();
  EXPECT_EQ(stats.published, kEvents);
  EXPECT_EQ(stats.delivered, kEvents);
  EXPECT_EQ(stats.spooled, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_TRUE(stats.connected);

  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kEvents));  // idempotent: no duplicates
  const auto counts = CountPayloads(messages);
  for (int i = 0; i < kEvents; ++i) EXPECT_EQ(counts.count(Payload(i)), 1u) << i;
  for (const auto& m : messages) {
    EXPECT_EQ(m.key, Key(std::stoi(m.payload.substr(9))));
    EXPECT_FALSE(m.replayed);
    EXPECT_EQ(m.partition, testing::JavaPartition(m.key, kPartitions)) << m.key;
  }
  ExpectPerKeyOrder(messages);
}

TEST(KafkaEventSink, PublishFromManyThreads) {
  MockCluster cluster(kTopic, kPartitions);
  TempDir spool;
  auto sink = OpenSink(Options(cluster, spool.path()));
  ASSERT_TRUE(sink);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * 250; i < (t + 1) * 250; ++i) sink->Publish(Key(i), Payload(i));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(sink->Flush(15s));
  EXPECT_EQ(sink->Stats().delivered, 1000u);
  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  EXPECT_EQ(messages.size(), 1000u);
  EXPECT_EQ(CountPayloads(messages).size(), 1000u);
}

TEST(KafkaEventSink, SpoolsWhileAllBrokersAreDownAndReplaysWhenTheyAreBack) {
  MockCluster cluster(kTopic, kPartitions);
  TempDir spool;
  auto sink = OpenSink(Options(cluster, spool.path()));
  ASSERT_TRUE(sink);
  constexpr int kBefore = 50;
  constexpr int kDuring = 300;
  for (int i = 0; i < kBefore; ++i) sink->Publish(Key(i), Payload(i));
  ASSERT_TRUE(sink->Flush(15s));
  ASSERT_EQ(sink->Stats().delivered, kBefore);

  cluster.SetAllDown();
  for (int i = kBefore; i < kBefore + kDuring; ++i) sink->Publish(Key(i), Payload(i));
  // Whatever librdkafka took before it noticed comes back purged and is spooled too.
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().spooled == kDuring; }, 10s))
      << "spooled " << sink->Stats().spooled;
  auto stats = sink->Stats();
  EXPECT_EQ(stats.delivered, kBefore);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_FALSE(stats.connected);
  EXPECT_GT(stats.spool_bytes, 0u);

  cluster.SetAllUp();
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().replayed >= kDuring; }, 15s))
      << "replayed " << sink->Stats().replayed;
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().spool_bytes == 0; }, 5s));
  EXPECT_EQ(SegmentCount(spool.path()), 0u);
  EXPECT_TRUE(sink->Stats().connected);
  EXPECT_TRUE(sink->Flush(5s));

  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  const auto counts = CountPayloads(messages);
  for (int i = 0; i < kBefore + kDuring; ++i) EXPECT_GE(counts.count(Payload(i)), 1u) << i;
  for (const auto& m : messages) {
    const int event = std::stoi(m.payload.substr(9));
    EXPECT_EQ(m.key, Key(event));
    EXPECT_EQ(m.replayed, event >= kBefore) << event;
  }
  EXPECT_EQ(sink->Stats().dropped, 0u);
}

TEST(KafkaEventSink, BeyondMaxInMemoryEventsSpoolAndAreReplayedBesideLiveOnes) {
  MockCluster cluster(kTopic, kPartitions);
  TempDir spool;
  auto options = Options(cluster, spool.path());
  options.max_in_memory = 20;
  options.stall_timeout = 10s;  // slow, not down
  auto sink = OpenSink(options);
  ASSERT_TRUE(sink);
  cluster.SetRtt(300);
  constexpr int kEvents = 300;
  for (int i = 0; i < kEvents; ++i) sink->Publish(Key(i), Payload(i));
  auto stats = sink->Stats();
  EXPECT_GT(stats.spooled, 0u);
  EXPECT_LE(stats.queued, 20u + 5u);  // the live bound plus the replay window (20 / 4)
  cluster.SetRtt(0);
  ASSERT_TRUE(sink->Flush(10s));
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().replayed == sink->Stats().spooled; }, 15s));
  stats = sink->Stats();
  EXPECT_EQ(stats.delivered + stats.spooled, kEvents);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_TRUE(WaitFor([&] { return SegmentCount(spool.path()) == 0; }, 5s));

  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  EXPECT_EQ(messages.size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(CountPayloads(messages).size(), static_cast<std::size_t>(kEvents));
  std::size_t replayed = 0;
  for (const auto& m : messages) replayed += m.replayed;
  EXPECT_EQ(replayed, stats.spooled);
}

TEST(KafkaEventSink, FlushDeadlineSpoolsWhatIsStillInFlight) {
  MockCluster cluster(kTopic, kPartitions);
  TempDir spool;
  auto options = Options(cluster, spool.path());
  options.stall_timeout = 10s;
  auto sink = OpenSink(options);
  ASSERT_TRUE(sink);
  ASSERT_TRUE(WaitFor([&] { return sink->Stats().connected; }, 5s));
  cluster.SetRtt(3000);
  constexpr int kEvents = 20;
  for (int i = 0; i < kEvents; ++i) sink->Publish(Key(i), Payload(i));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(sink->Flush(200ms));  // nothing dropped: what was not acknowledged is spooled
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  auto stats = sink->Stats();
  EXPECT_EQ(stats.delivered + stats.spooled, kEvents);
  EXPECT_GT(stats.spooled, 0u);
  EXPECT_GT(SegmentCount(spool.path()), 0u);  // replay (already under way) takes 3 s per round

  cluster.SetRtt(0);
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().replayed == sink->Stats().spooled; }, 15s));
  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  const auto counts = CountPayloads(messages);
  for (int i = 0; i < kEvents; ++i) EXPECT_GE(counts.count(Payload(i)), 1u) << i;
}

TEST(KafkaEventSink, OpensAtOnceWithBrokersDownAndDropsBeyondATinySpool) {
  MockCluster cluster(kTopic, kPartitions);
  cluster.SetAllDown();
  TempDir spool;
  auto options = Options(cluster, spool.path());
  options.spool_max_bytes = 2000;
  const auto start = std::chrono::steady_clock::now();
  auto sink = OpenSink(options);
  ASSERT_TRUE(sink);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  constexpr int kEvents = 200;
  for (int i = 0; i < kEvents; ++i) sink->Publish(Key(i), Payload(i));
  EXPECT_FALSE(sink->Flush(5s));  // some were dropped
  const auto stats = sink->Stats();
  EXPECT_EQ(stats.published, kEvents);
  EXPECT_EQ(stats.spooled + stats.dropped, kEvents);
  EXPECT_GT(stats.dropped, 0u);
  EXPECT_GT(stats.spooled, 10u);
  EXPECT_LE(stats.spool_bytes, 2000u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_FALSE(stats.connected);

  // What fit is replayed once the cluster is back.
  const auto spooled = stats.spooled;
  cluster.SetAllUp();
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().replayed >= spooled; }, 15s));
  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  EXPECT_GE(messages.size(), spooled);
  EXPECT_EQ(CountPayloads(messages).size(), spooled);
}

TEST(KafkaEventSink, DestructorSpoolsWhatIsLeftDurablyAndTheNextSinkReplaysIt) {
  MockCluster cluster(kTopic, kPartitions);
  TempDir spool;
  cluster.SetAllDown();
  {
    auto sink = OpenSink(Options(cluster, spool.path()));
    ASSERT_TRUE(sink);
    for (int i = 0; i < 40; ++i) sink->Publish(Key(i), Payload(i));
  }  // no Flush: the destructor must keep them
  EXPECT_GT(SegmentCount(spool.path()), 0u);

  cluster.SetAllUp();
  auto sink = OpenSink(Options(cluster, spool.path()));
  ASSERT_TRUE(sink);
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().replayed >= 40; }, 15s))
      << "replayed " << sink->Stats().replayed;
  EXPECT_TRUE(WaitFor([&] { return SegmentCount(spool.path()) == 0; }, 5s));
  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  const auto counts = CountPayloads(messages);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(counts.count(Payload(i)), 1u) << i;
  for (const auto& m : messages) EXPECT_TRUE(m.replayed);
}

TEST(KafkaEventSink, ReplaysSegmentsLeftByACrashedSinkInOrder) {
  MockCluster cluster(kTopic, kPartitions);
  TempDir spool;
  constexpr int kEvents = 120;
  {
    auto left = Spool::Open({.dir = spool.path(), .segment_bytes = 1024});
    ASSERT_TRUE(left) << left.error().detail;
    for (int i = 0; i < kEvents; ++i) ASSERT_TRUE((*left)->Append(Key(i), Payload(i)));
  }
  ASSERT_GT(SegmentCount(spool.path()), 2u);

  auto sink = OpenSink(Options(cluster, spool.path()));
  ASSERT_TRUE(sink);
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().replayed == kEvents; }, 15s))
      << "replayed " << sink->Stats().replayed;
  // The segment file goes before the byte count drops (both under the spool's lock, which
  // this thread does not take): wait for both.
  EXPECT_TRUE(WaitFor([&] { return SegmentCount(spool.path()) == 0; }, 5s));
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().spool_bytes == 0; }, 5s))
      << "spool_bytes " << sink->Stats().spool_bytes;

  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kEvents));
  for (const auto& m : messages) {
    EXPECT_TRUE(m.replayed);
    EXPECT_EQ(m.key, Key(std::stoi(m.payload.substr(9))));
  }
  EXPECT_EQ(CountPayloads(messages).size(), static_cast<std::size_t>(kEvents));
  ExpectPerKeyOrder(messages);
}

TEST(KafkaEventSink, IgnoresATornTailAndACorruptRecordButReplaysTheRest) {
  MockCluster cluster(kTopic, kPartitions);
  TempDir spool;
  {
    auto left = Spool::Open({.dir = spool.path()});
    ASSERT_TRUE(left);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*left)->Append(Key(i), Payload(i)));
  }
  const auto first = spool.path() / Spool::SegmentName(1);
  {  // a crash in the middle of writing record 20
    std::ofstream out(first, std::ios::binary | std::ios::app);
    out.write("\x11\x22\x33\x44\x06\x00\x00\x00\x30\x00\x00\x00code1{\"ev", 20);
  }
  {
    auto left = Spool::Open({.dir = spool.path()});
    ASSERT_TRUE(left);
    for (int i = 20; i < 30; ++i) ASSERT_TRUE((*left)->Append(Key(i), Payload(i)));
  }
  const auto second = spool.path() / Spool::SegmentName(2);
  {  // bit rot in the last record (event 29)
    std::fstream io(second, std::ios::binary | std::ios::in | std::ios::out);
    io.seekp(-2, std::ios::end);
    io.put('X');
  }

  auto sink = OpenSink(Options(cluster, spool.path()));
  ASSERT_TRUE(sink);
  EXPECT_TRUE(WaitFor([&] { return sink->Stats().replayed == 29; }, 15s))
      << "replayed " << sink->Stats().replayed;
  EXPECT_TRUE(WaitFor([&] { return SegmentCount(spool.path()) == 0; }, 5s));
  const auto messages = ReadTopic(cluster.bootstraps(), kTopic);
  ASSERT_EQ(messages.size(), 29u);
  const auto counts = CountPayloads(messages);
  for (int i = 0; i < 29; ++i) EXPECT_EQ(counts.count(Payload(i)), 1u) << i;
  EXPECT_EQ(sink->Stats().replayed, 29u);
}

TEST(KafkaEventSink, OpenRejectsBadOptionsClearly) {
  TempDir dir;
  { std::ofstream(dir.File("plain-file")) << "x"; }
  ProducerOptions options;
  options.brokers = "127.0.0.1:1";
  options.topic = kTopic;

  options.spool_dir = dir.path() / "plain-file" / "spool";
  auto unwritable = KafkaEventSink::Open(options);
  ASSERT_FALSE(unwritable);
  EXPECT_EQ(unwritable.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(unwritable.error().detail.find("spool directory"), std::string::npos)
      << unwritable.error().detail;
  EXPECT_NE(unwritable.error().detail.find("plain-file/spool"), std::string::npos);

  options.spool_dir = dir.path() / "spool";
  options.topic = "bad topic";
  auto bad_topic = KafkaEventSink::Open(options);
  ASSERT_FALSE(bad_topic);
  EXPECT_EQ(bad_topic.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_topic.error().detail.find("bad topic"), std::string::npos);

  options.topic = kTopic;
  options.extra = {{"no.such.setting", "1"}};
  auto bad_setting = KafkaEventSink::Open(options);
  ASSERT_FALSE(bad_setting);
  EXPECT_EQ(bad_setting.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_setting.error().detail.find("no.such.setting"), std::string::npos);

  options.extra = {};
  options.brokers = "";
  auto no_brokers = KafkaEventSink::Open(options);
  ASSERT_FALSE(no_brokers);
  EXPECT_EQ(no_brokers.error().code, core::ErrorCode::kInvalidArgument);

  // Two sinks cannot share one spool.
  options.brokers = "127.0.0.1:1";
  auto first = KafkaEventSink::Open(options);
  ASSERT_TRUE(first) << first.error().detail;
  auto second = KafkaEventSink::Open(options);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace kurz::adapters::kafka
