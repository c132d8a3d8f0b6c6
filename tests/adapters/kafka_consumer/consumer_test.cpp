// KafkaClickSource against a mock Kafka cluster (tools/kafka_mock as a child process, fresh per
// test): messages with their partitions, offsets, keys, payloads and replayed flags; OnAssign's
// start positions; committed offsets across members; two members splitting the partitions and
// one taking over when the other leaves; all brokers down and back. And the tool itself.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/kafka/consumer.hpp"
#include "adapters/kafka_consumer/kafka_mock_process.hpp"

namespace kurz::testing {
namespace {

using adapters::kafka::ConsumerOptions;
using adapters::kafka::KafkaClickSource;
using core::ErrorCode;
using core::StreamPosition;
using ports::StreamMessage;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;
using Place = std::pair<std::int32_t, std::int64_t>;  // partition, offset

constexpr char kTopic[] = "click-events";
constexpr int kPartitions = 12;

// `count` records numbered from `first`, round-robin over the partitions. Every third carries
// kurz-replayed: 1, the next one kurz-replayed: 0, the next none.
std::vector<TestRecord> Records(int first, int count) {
  std::vector<TestRecord> records;
  for (int i = first; i < first + count; ++i) {
    TestRecord& r = records.emplace_back();
    r.partition = i % kPartitions;
    r.key = "k" + std::to_string(i);
    r.payload = "msg-" + std::to_string(i);
    if (i % 3 == 0) r.replayed_header = "1";
    if (i % 3 == 1) r.replayed_header = "0";
  }
  return records;
}

// One group member the way `kurz worker` uses it: it stores the position after every message it
// gets, OnAssign hands those back, and (optionally) it commits them after every poll.
struct Member {
  std::unique_ptr<KafkaClickSource> source;
  std::map<std::int32_t, std::int64_t> stored;
  std::set<std::int32_t> assigned;
  std::vector<std::vector<std::int32_t>> assign_calls;
  std::vector<std::vector<std::int32_t>> revoke_calls;
  std::vector<StreamMessage> got;
  bool commit_each_poll = false;
  std::function<core::Result<void>()> fail_assign;  // when set and failing, OnAssign fails

  ~Member() { source.reset(); }  // closing calls OnRevoke, which uses the members above

  void Subscribe() {
    auto on_assign = [this](const std::vector<std::int32_t>& partitions)
        -> core::Result<std::vector<StreamPosition>> {
      assign_calls.push_back(partitions);
      if (fail_assign) {
        if (auto r = fail_assign(); !r) return std::unexpected(r.error());
      }
      std::vector<StreamPosition> starts;
      for (std::int32_t p : partitions) {
        assigned.insert(p);
        if (auto it = stored.find(p); it != stored.end()) starts.push_back({p, it->second});
      }
      return starts;
    };
    auto on_revoke = [this](const std::vector<std::int32_t>& partitions) {
      revoke_calls.push_back(partitions);
      for (std::int32_t p : partitions) assigned.erase(p);
    };
    ASSERT_TRUE(source->Subscribe(on_assign, on_revoke).has_value());
  }

  // One Poll; the error when it fails.
  core::Result<std::size_t> PollOnce(milliseconds wait = milliseconds(100)) {
    std::vector<StreamMessage> batch;
    core::Result<std::size_t> n = source->Poll(batch, 100, wait);
    if (!n) return n;
    EXPECT_EQ(*n, batch.size());
    for (StreamMessage& m : batch) {
      stored[m.partition] = m.offset + 1;
      got.push_back(std::move(m));
    }
    if (commit_each_poll && !batch.empty()) {
      std::vector<StreamPosition> next;
      for (const auto& [p, offset] : stored) next.push_back({p, offset});
      EXPECT_TRUE(source->Commit(next).has_value());
    }
    return n;
  }

  std::set<Place> Places(std::size_t from = 0) const {
    std::set<Place> places;
    for (std::size_t i = from; i < got.size(); ++i)
      places.insert({got[i].partition, got[i].offset});
    return places;
  }
};

// Polls every member in turn until done() or the timeout; false on timeout or a Poll error.
bool PollUntil(const std::vector<Member*>& members, const std::function<bool()>& done,
               milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    for (Member* m : members) {
      if (core::Result<std::size_t> n = m->PollOnce(); !n) {
        ADD_FAILURE() << "Poll failed: " << n.error().detail;
        return false;
      }
    }
  }
  return true;
}

std::set<Place> PlacesOf(const std::vector<ProducedRecord>& produced) {
  std::set<Place> places;
  for (const ProducedRecord& p : produced) places.insert({p.record.partition, p.offset});
  return places;
}

class KafkaConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock_.ok()) << "kurz_kafka_mock did not start"; }

  void TearDown() override {
    members_.clear();  // close the consumers while the cluster is still there
    EXPECT_EQ(mock_.Stop(), 0) << "kurz_kafka_mock did not exit cleanly on SIGTERM";
  }

  ConsumerOptions Options() const {
    ConsumerOptions options;
    options.brokers = mock_.bootstraps();
    options.topic = kTopic;
    options.group = "workers";
    options.session_timeout = milliseconds(3000);
    options.heartbeat_interval = milliseconds(300);
    return options;
  }

  Member& Join(std::map<std::string, std::string> extra = {}) {
    auto member = std::make_unique<Member>();
    ConsumerOptions options = Options();
    options.extra = std::move(extra);
    auto source = KafkaClickSource::Open(std::move(options));
    EXPECT_TRUE(source.has_value()) << source.error().detail;
    if (source) member->source = std::move(*source);
    members_.push_back(std::move(member));
    return *members_.back();
  }

  std::vector<ProducedRecord> Produce(int first, int count) {
    return kurz::testing::Produce(mock_.bootstraps(), kTopic, Records(first, count));
  }

  KafkaMockProcess mock_;
  std::vector<std::unique_ptr<Member>> members_;
};

TEST_F(KafkaConsumerTest, ReadsEveryMessageWithItsPartitionOffsetKeyPayloadAndReplayedFlag) {
  const std::vector<ProducedRecord> produced = Produce(0, 60);
  ASSERT_EQ(produced.size(), 60u);
  Member& member = Join();
  ASSERT_NO_FATAL_FAILURE(member.Subscribe());

  ASSERT_TRUE(PollUntil(
      {&member}, [&] { return member.got.size() >= 60; }, seconds(20)))
      << "got " << member.got.size() << " of 60";
  ASSERT_TRUE(member.PollOnce(milliseconds(500)).has_value());  // nothing more may come
  ASSERT_EQ(member.got.size(), 60u);

  std::map<Place, const StreamMessage*> by_place;
  for (const StreamMessage& m : member.got) by_place[{m.partition, m.offset}] = &m;
  for (const ProducedRecord& p : produced) {
    const auto it = by_place.find({p.record.partition, p.offset});
    ASSERT_NE(it, by_place.end()) << p.record.payload << " not read";
    EXPECT_EQ(it->second->key, p.record.key);
    EXPECT_EQ(it->second->payload, p.record.payload);
    EXPECT_EQ(it->second->replayed, p.record.replayed_header == "1") << p.record.payload;
  }
  std::map<std::int32_t, std::int64_t> last;
  for (const StreamMessage& m : member.got) {
    if (last.contains(m.partition)) {
      EXPECT_EQ(m.offset, last[m.partition] + 1);
    }
    last[m.partition] = m.offset;
  }

  ASSERT_EQ(member.assign_calls.size(), 1u);
  EXPECT_EQ(member.assign_calls[0].size(), static_cast<std::size_t>(kPartitions));
  const std::vector<ports::PartitionLag> lag = member.source->Lag();
  ASSERT_EQ(lag.size(), static_cast<std::size_t>(kPartitions));
  for (const ports::PartitionLag& l : lag) {
    EXPECT_EQ(l.position, 5) << "partition " << l.partition;
    EXPECT_EQ(l.high_watermark, 5) << "partition " << l.partition;
  }
}

TEST_F(KafkaConsumerTest, StartsWhereOnAssignSaysAndElsewhereAtTheBeginning) {
  ASSERT_EQ(Produce(0, 60).size(), 60u);  // offsets 0..4 in every partition
  Member& member = Join();
  for (std::int32_t p = 0; p < 6; ++p) member.stored[p] = 3;
  ASSERT_NO_FATAL_FAILURE(member.Subscribe());

  std::set<Place> expected;
  for (std::int32_t p = 0; p < kPartitions; ++p) {
    for (std::int64_t o = p < 6 ? 3 : 0; o < 5; ++o) expected.insert({p, o});
  }
  ASSERT_TRUE(PollUntil(
      {&member}, [&] { return member.got.size() >= 42; }, seconds(20)))
      << "got " << member.got.size() << " of 42";
  ASSERT_TRUE(member.PollOnce(milliseconds(500)).has_value());
  EXPECT_EQ(member.got.size(), 42u);
  EXPECT_EQ(member.Places(), expected);

  // Lag before any message of a partition is known comes from OnAssign's positions.
  for (const ports::PartitionLag& l : member.source->Lag()) {
    EXPECT_EQ(l.position, 5) << "partition " << l.partition;
  }
}

// What the worker does when its store refuses a window (another member stored further): it
// goes back (or forward) to the stored positions.
TEST_F(KafkaConsumerTest, SeekContinuesAnAssignedPartitionAtTheGivenOffset) {
  ASSERT_EQ(Produce(0, 60).size(), 60u);  // offsets 0..4 in every partition
  Member& member = Join();
  ASSERT_NO_FATAL_FAILURE(member.Subscribe());
  ASSERT_TRUE(PollUntil(
      {&member}, [&] { return member.got.size() >= 60; }, seconds(20)));
  const std::size_t before = member.got.size();
  ASSERT_TRUE(member.source->Seek({{0, 1}, {1, 4}}).has_value());
  std::set<Place> expected = {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {1, 4}};
  ASSERT_TRUE(PollUntil(
      {&member}, [&] { return member.got.size() >= before + 5; }, seconds(20)))
      << "got " << member.got.size() - before << " of 5 after the seek";
  ASSERT_TRUE(member.PollOnce(milliseconds(500)).has_value());
  EXPECT_EQ(member.Places(before), expected);
  EXPECT_EQ(member.got.size(), before + 5);
}

TEST_F(KafkaConsumerTest, TheNextMemberStartsAfterTheCommittedOffsets) {
  ASSERT_EQ(Produce(0, 24).size(), 24u);
  {
    Member& first = Join();
    first.commit_each_poll = true;
    ASSERT_NO_FATAL_FAILURE(first.Subscribe());
    ASSERT_TRUE(PollUntil(
        {&first}, [&] { return first.got.size() >= 24; }, seconds(20)));
    first.source->Close();  // waits for the commits in flight and leaves the group
    first.source->Close();  // idempotent
    EXPECT_EQ(first.revoke_calls.size(), 1u);
    EXPECT_TRUE(first.assigned.empty());
    const core::Result<std::size_t> closed = first.PollOnce();
    ASSERT_FALSE(closed.has_value());
    EXPECT_EQ(closed.error().code, ErrorCode::kUnavailable);
  }
  const std::vector<ProducedRecord> more = Produce(24, 12);  // offset 2 in every partition
  ASSERT_EQ(more.size(), 12u);

  Member& next = Join();
  ASSERT_NO_FATAL_FAILURE(next.Subscribe());
  ASSERT_TRUE(PollUntil(
      {&next}, [&] { return next.got.size() >= 12; }, seconds(25)))
      << "got " << next.got.size() << " of 12";
  ASSERT_TRUE(next.PollOnce(milliseconds(500)).has_value());
  EXPECT_EQ(next.got.size(), 12u);
  EXPECT_EQ(next.Places(), PlacesOf(more));
}

TEST_F(KafkaConsumerTest, TwoMembersSplitThePartitionsAndTheSurvivorTakesOver) {
  Member& a = Join();
  Member& b = Join();
  a.commit_each_poll = b.commit_each_poll = true;
  ASSERT_NO_FATAL_FAILURE(a.Subscribe());
  ASSERT_NO_FATAL_FAILURE(b.Subscribe());
  ASSERT_TRUE(PollUntil(
      {&a, &b},
      [&] {
        return !a.assigned.empty() && !b.assigned.empty() &&
               a.assigned.size() + b.assigned.size() == kPartitions;
      },
      seconds(25)))
      << "assigned " << a.assigned.size() << " + " << b.assigned.size();
  for (std::int32_t p : a.assigned) EXPECT_FALSE(b.assigned.contains(p)) << p;

  const std::vector<ProducedRecord> first = Produce(0, 60);
  ASSERT_EQ(first.size(), 60u);
  ASSERT_TRUE(PollUntil(
      {&a, &b}, [&] { return a.got.size() + b.got.size() >= 60; }, seconds(20)));
  for (const StreamMessage& m : a.got) EXPECT_TRUE(a.assigned.contains(m.partition));
  for (const StreamMessage& m : b.got) EXPECT_TRUE(b.assigned.contains(m.partition));
  std::set<Place> both = a.Places();
  both.merge(b.Places());
  EXPECT_EQ(both, PlacesOf(first));

  const std::set<std::int32_t> b_had = b.assigned;
  members_.pop_back();  // b: closed and destroyed, its commits done
  const std::size_t a_before = a.got.size();
  const std::vector<ProducedRecord> second = Produce(60, 60);
  ASSERT_EQ(second.size(), 60u);
  ASSERT_TRUE(PollUntil(
      {&a}, [&] { return a.assigned.size() == kPartitions && a.got.size() - a_before >= 60; },
      seconds(25)))
      << "a has " << a.assigned.size() << " partitions, read " << a.got.size() - a_before;
  ASSERT_TRUE(a.PollOnce(milliseconds(500)).has_value());
  EXPECT_EQ(a.got.size() - a_before, 60u) << "b's partitions must resume at b's commits";
  EXPECT_EQ(a.Places(a_before), PlacesOf(second));
  ASSERT_FALSE(a.assign_calls.empty());
  for (std::int32_t p : b_had) EXPECT_TRUE(a.assigned.contains(p)) << p;
}

// Down for longer than the session timeout: the member loses its partitions and joins again,
// and OnAssign's positions make it go on where it was. librdkafka backs off reconnecting up to
// reconnect.backoff.max.ms (10 s by default) after refused connections; 1 s keeps this short.
TEST_F(KafkaConsumerTest, BrokersDownIsNoErrorAndReadingGoesOnWhenTheyAreBack) {
  Member& member = Join({{"reconnect.backoff.max.ms", "1000"}});
  ASSERT_NO_FATAL_FAILURE(member.Subscribe());
  const std::vector<ProducedRecord> before = Produce(0, 24);
  ASSERT_EQ(before.size(), 24u);
  ASSERT_TRUE(PollUntil(
      {&member}, [&] { return member.got.size() >= 24; }, seconds(20)));

  mock_.Down();
  const Clock::time_point until = Clock::now() + milliseconds(4500);  // session timeout: 3 s
  while (Clock::now() < until) {
    const core::Result<std::size_t> n = member.PollOnce(milliseconds(200));
    ASSERT_TRUE(n.has_value()) << n.error().detail;
    EXPECT_EQ(*n, 0u);
  }
  EXPECT_TRUE(member.source->Commit({{0, 2}}).has_value()) << "Commit only queues the offsets";

  mock_.Up();
  const std::vector<ProducedRecord> after = Produce(24, 24);
  ASSERT_EQ(after.size(), 24u);
  ASSERT_TRUE(PollUntil(
      {&member}, [&] { return member.got.size() >= 48; }, seconds(25)))
      << "got " << member.got.size() << " of 48";
  ASSERT_TRUE(member.PollOnce(milliseconds(500)).has_value());
  EXPECT_EQ(member.got.size(), 48u);
  EXPECT_EQ(member.revoke_calls.size(), 1u) << "the session timed out while the brokers were down";
  EXPECT_EQ(member.assign_calls.size(), 2u);
  std::set<Place> all = PlacesOf(before);
  all.merge(PlacesOf(after));
  EXPECT_EQ(member.Places(), all);
}

TEST_F(KafkaConsumerTest, AFailedOnAssignFailsPollAndTheCommittedOffsetsAreRead) {
  const std::vector<ProducedRecord> produced = Produce(0, 24);
  ASSERT_EQ(produced.size(), 24u);
  Member& member = Join();
  for (std::int32_t p = 0; p < kPartitions; ++p) member.stored[p] = 1;  // never used
  int failures = 0;
  member.fail_assign = [&]() -> core::Result<void> {
    if (failures++ > 0) return {};
    return core::Fail(ErrorCode::kUnavailable, "store down");
  };
  ASSERT_NO_FATAL_FAILURE(member.Subscribe());

  core::Result<std::size_t> n = member.PollOnce();
  for (const Clock::time_point deadline = Clock::now() + seconds(20);
       n.has_value() && Clock::now() < deadline;) {
    EXPECT_EQ(*n, 0u);
    n = member.PollOnce();
  }
  ASSERT_FALSE(n.has_value()) << "Poll should fail with OnAssign's error";
  EXPECT_EQ(n.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(n.error().detail, "store down");

  ASSERT_TRUE(PollUntil(
      {&member}, [&] { return member.got.size() >= 24; }, seconds(20)));
  ASSERT_TRUE(member.PollOnce(milliseconds(500)).has_value());
  EXPECT_EQ(member.got.size(), 24u);
  EXPECT_EQ(member.Places(), PlacesOf(produced));  // from offset 0, not OnAssign's 1
}

TEST(KafkaConsumerOptionsTest, OpenRejectsWhatItCannotWorkWith) {
  ConsumerOptions options;
  options.brokers = "127.0.0.1:1";
  options.topic = kTopic;
  EXPECT_EQ(KafkaClickSource::Open(options).error().code, ErrorCode::kInvalidArgument);  // group
  options.group = "g";
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"enable.auto.commit", "true"},
           {"auto.offset.reset", "latest"},
           {"partition.assignment.strategy", "cooperative-sticky"},
           {"no.such.setting", "1"}}) {
    ConsumerOptions bad = options;
    bad.extra[name] = value;
    const auto source = KafkaClickSource::Open(bad);
    ASSERT_FALSE(source.has_value()) << name;
    EXPECT_EQ(source.error().code, ErrorCode::kInvalidArgument) << name;
  }
  options.extra["partition.assignment.strategy"] = "roundrobin";
  auto source = KafkaClickSource::Open(options);
  ASSERT_TRUE(source.has_value()) << source.error().detail;
  std::vector<StreamMessage> out;
  EXPECT_EQ((*source)->Poll(out, 10, milliseconds(0)).error().code, ErrorCode::kInvalidArgument)
      << "Poll before Subscribe";
  (*source)->Close();
  EXPECT_FALSE((*source)->Subscribe(nullptr, nullptr).has_value());
  EXPECT_TRUE((*source)->Lag().empty());
}

TEST(KafkaMockToolTest, WritesTheBootstrapFileAndExitsCleanlyOnSigterm) {
  const std::string file = ::testing::TempDir() + "kurz-kafka-mock-bootstrap";
  std::remove(file.c_str());
  KafkaMockProcess mock(
      {"--brokers", "1", "--partitions", "2", "--topic", "other", "--bootstrap-file", file});
  ASSERT_TRUE(mock.ok());
  std::ifstream in(file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, mock.bootstraps());
  const std::vector<ProducedRecord> produced =
      Produce(mock.bootstraps(), "other", {{1, "k", "v", std::nullopt}});
  ASSERT_EQ(produced.size(), 1u);
  EXPECT_EQ(produced[0].offset, 0);
  EXPECT_EQ(mock.Stop(), 0);
  std::remove(file.c_str());
}

TEST(KafkaMockToolTest, ExitsTwoOnBadFlags) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--brokers", "0"},
                                             {"--partitions", "x"},
                                             {"--brokers", "3x"},
                                             {"--topic"},
                                             {"--nope", "1"},
                                             {"stray"}}) {
    EXPECT_EQ(RunKafkaMock(args, seconds(10)), 2) << args[0];
  }
}

}  // namespace
}  // namespace kurz::testing
