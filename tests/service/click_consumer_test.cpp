#include "service/click_consumer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/memory/click_store.hpp"
#include "adapters/memory/raw_click_store.hpp"
#include "analytics/click_message.hpp"
#include "analytics/fakes.hpp"
#include "service/fakes.hpp"

namespace kurz::service {
namespace {

// 2026-11-28T10:00:00Z
constexpr core::Micros kT0 = 1'795'860'000LL * core::kMicrosPerSecond;
const core::Date kDay = core::DateOf(kT0);
constexpr const char* kStream = "analytics/click-events";

std::string Id(int n) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032x", n);
  return buf;
}

std::string Payload(int n, const std::string& code, const std::string& ua = "Firefox") {
  analytics::ClickMessage m;
  m.id = Id(n);
  m.at = kT0 + n;
  m.code = code;
  m.visitor = Id(1000 + n % 3);
  m.country = "DE";
  m.user_agent = ua;
  std::string out;
  analytics::EncodeClickMessage(m, out);
  return out;
}

// A partitioned stream in memory that behaves like one member holding every partition:
// assignment on the first Poll (honouring the positions OnAssign returns), Seek, Commit.
class FakeClickSource final : public ports::ClickSource {
 public:
  explicit FakeClickSource(int partitions) : log_(static_cast<std::size_t>(partitions)) {}

  void Append(std::int32_t partition, std::string payload, bool replayed = false) {
    std::lock_guard lock(mu_);
    auto& log = log_[static_cast<std::size_t>(partition)];
    log.push_back(ports::StreamMessage{partition, static_cast<std::int64_t>(log.size()), "",
                                       std::move(payload), replayed});
  }
  std::int64_t End(std::int32_t partition) {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(log_[static_cast<std::size_t>(partition)].size());
  }
  // Takes every partition away and gives it back (a rebalance), at the next Poll.
  void Rebalance() {
    std::lock_guard lock(mu_);
    rebalance_ = true;
  }
  std::map<std::int32_t, std::int64_t> committed() {
    std::lock_guard lock(mu_);
    return committed_;
  }
  int seeks() {
    std::lock_guard lock(mu_);
    return seeks_;
  }

  core::Result<void> Subscribe(OnAssign on_assign, OnRevoke on_revoke) override {
    on_assign_ = std::move(on_assign);
    on_revoke_ = std::move(on_revoke);
    return {};
  }
  core::Result<std::size_t> Poll(std::vector<ports::StreamMessage>& out, std::size_t max,
                                 std::chrono::milliseconds wait) override {
    bool assign = false;
    {
      std::lock_guard lock(mu_);
      if (rebalance_ && assigned_) {
        rebalance_ = false;
        assigned_ = false;
        std::vector<std::int32_t> all = Partitions();
        mu_.unlock();
        on_revoke_(all);
        mu_.lock();
      }
      assign = !assigned_;
    }
    if (assign) {
      auto start = on_assign_(Partitions());
      std::lock_guard lock(mu_);
      next_.assign(log_.size(), 0);
      for (const auto& [p, offset] : committed_) next_[static_cast<std::size_t>(p)] = offset;
      if (start) {
        for (const core::StreamPosition& pos : *start) {
          next_[static_cast<std::size_t>(pos.partition)] = pos.offset;
        }
      }
      assigned_ = true;
    }
    std::size_t n = 0;
    {
      std::lock_guard lock(mu_);
      for (std::size_t p = 0; p < log_.size() && n < max; ++p) {
        while (n < max && next_[p] < static_cast<std::int64_t>(log_[p].size())) {
          out.push_back(log_[p][static_cast<std::size_t>(next_[p]++)]);
          ++n;
        }
      }
    }
    if (n == 0) std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(5)));
    return n;
  }
  core::Result<void> Commit(const std::vector<core::StreamPosition>& next) override {
    std::lock_guard lock(mu_);
    for (const auto& pos : next) committed_[pos.partition] = pos.offset;
    return {};
  }
  core::Result<void> Seek(const std::vector<core::StreamPosition>& positions) override {
    std::lock_guard lock(mu_);
    ++seeks_;
    for (const auto& pos : positions) next_[static_cast<std::size_t>(pos.partition)] = pos.offset;
    return {};
  }
  std::vector<ports::PartitionLag> Lag() override {
    std::lock_guard lock(mu_);
    std::vector<ports::PartitionLag> lag;
    for (std::size_t p = 0; p < log_.size(); ++p) {
      lag.push_back({static_cast<std::int32_t>(p), next_.empty() ? 0 : next_[p],
                     static_cast<std::int64_t>(log_[p].size())});
    }
    return lag;
  }
  void Close() override {}

 private:
  std::vector<std::int32_t> Partitions() const {
    std::vector<std::int32_t> all;
    for (std::size_t p = 0; p < log_.size(); ++p) all.push_back(static_cast<std::int32_t>(p));
    return all;
  }

  std::mutex mu_;
  std::vector<std::vector<ports::StreamMessage>> log_;
  std::vector<std::int64_t> next_;
  std::map<std::int32_t, std::int64_t> committed_;
  bool assigned_ = false;
  bool rebalance_ = false;
  int seeks_ = 0;
  OnAssign on_assign_;
  OnRevoke on_revoke_;
};

// A raw store that fails while `down` is set.
class FlakyRawStore final : public ports::RawClickStore {
 public:
  core::Result<void> EnsureSchema() override { return {}; }
  core::Result<void> Insert(const std::vector<ports::RawClick>& rows) override {
    if (down) return core::Fail(core::ErrorCode::kUnavailable, "clickhouse is down");
    return store.Insert(rows);
  }
  core::Result<std::vector<ports::StoredEvent>> Find(const std::vector<std::string>& codes,
                                                     const std::vector<std::string>& ids) override {
    if (down) return core::Fail(core::ErrorCode::kUnavailable, "clickhouse is down");
    return store.Find(codes, ids);
  }
  core::Result<std::int64_t> Count(const std::string& code, core::Micros from,
                                   core::Micros to) override {
    return store.Count(code, from, to);
  }
  std::atomic<bool> down{false};
  adapters::memory::MemoryRawClickStore store;
};

using fakes::WaitUntil;

class ClickConsumerTest : public ::testing::Test {
 protected:
  ClickConsumer::Options Fast() {
    ClickConsumer::Options o;
    o.stream = kStream;
    o.batch_prefix = "test";
    o.flush_interval = std::chrono::milliseconds(20);
    return o;
  }
  std::int64_t Clicks(const std::string& code) {
    auto stats = log_.Stats(code, kDay, kDay);
    return stats ? stats->total_clicks : -1;
  }
  std::int64_t Bots(const std::string& code) {
    auto stats = log_.Stats(code, kDay, kDay);
    return stats ? stats->bot_clicks : -1;
  }
  std::int64_t Stored(std::int32_t partition) {
    auto positions = log_.Positions(kStream);
    if (!positions) return -1;
    for (const auto& p : *positions) {
      if (p.partition == partition) return p.offset;
    }
    return -1;
  }

  kurz::fakes::FakeUserAgentParser agents_;
  kurz::fakes::FakeGeoLocator geo_;
  analytics::Aggregator aggregator_{agents_, geo_, ""};
  adapters::memory::MemoryClickStore log_;
  FlakyRawStore raw_;
  FakeClickSource source_{3};
};

TEST_F(ClickConsumerTest, StoresEveryMessageOnceMovesPositionsAndCommits) {
  int n = 0;
  for (int i = 0; i < 30; ++i) source_.Append(i % 3, Payload(++n, i % 2 ? "abc" : "xyz"));
  source_.Append(1, Payload(++n, "abc", "Googlebot"));
  ClickConsumer consumer(source_, log_, raw_, nullptr, aggregator_, Fast());
  ASSERT_TRUE(consumer.Start());
  ASSERT_TRUE(WaitUntil([&] { return consumer.counters().stored == 31; }));
  EXPECT_EQ(Clicks("abc"), 15);
  EXPECT_EQ(Bots("abc"), 1);
  EXPECT_EQ(Clicks("xyz"), 15);
  EXPECT_EQ(raw_.store.Count("abc", kT0, kT0 + 1'000'000), 16);
  for (std::int32_t p = 0; p < 3; ++p) EXPECT_EQ(Stored(p), source_.End(p)) << p;
  ASSERT_TRUE(WaitUntil([&] { return source_.committed().size() == 3; }));
  EXPECT_EQ(source_.committed().at(1), 11);
  EXPECT_TRUE(consumer.healthy());
  consumer.Stop();
}

TEST_F(ClickConsumerTest, AMalformedMessageIsSkippedAndThePartitionMovesOn) {
  source_.Append(0, "{not json");
  source_.Append(0, R"({"v":2,"id":"x"})");
  source_.Append(0, Payload(1, "abc"));
  ClickConsumer consumer(source_, log_, raw_, nullptr, aggregator_, Fast());
  ASSERT_TRUE(consumer.Start());
  ASSERT_TRUE(WaitUntil([&] { return Stored(0) == 3; }));
  EXPECT_EQ(consumer.counters().malformed, 2u);
  EXPECT_EQ(Clicks("abc"), 1);
  consumer.Stop();
}

TEST_F(ClickConsumerTest, AReplayedEventStoredBeforeIsADuplicateButItsOwnRowIsNot) {
  // Event 1 was delivered, then replayed from a spool: two copies in partition 0.
  source_.Append(0, Payload(1, "abc"));
  source_.Append(0, Payload(2, "abc"));
  source_.Append(0, Payload(1, "abc"), /*replayed=*/true);
  // Event 3 arrives only as a replay; its row at this very position is in the raw store already
  // (a window stored raw clicks, then the worker died before the counts): not a duplicate.
  source_.Append(0, Payload(3, "abc"), /*replayed=*/true);
  ports::RawClick row;
  row.event_id = Id(3);
  row.at = kT0 + 3;
  row.code = "abc";
  row.visitor = Id(1000);
  row.country = "DE";
  row.partition = 0;
  row.offset = 3;
  ASSERT_TRUE(raw_.store.Insert({row}));
  // Event 2 replayed in a later window: found in the raw store at an earlier offset.
  ClickConsumer consumer(source_, log_, raw_, nullptr, aggregator_, Fast());
  ASSERT_TRUE(consumer.Start());
  ASSERT_TRUE(WaitUntil([&] { return Stored(0) == 4; }));
  source_.Append(0, Payload(2, "abc"), /*replayed=*/true);
  ASSERT_TRUE(WaitUntil([&] { return Stored(0) == 5; }));
  EXPECT_EQ(Clicks("abc"), 3);
  EXPECT_EQ(consumer.counters().duplicates, 2u);
  EXPECT_EQ(consumer.counters().stored, 3u);
  consumer.Stop();
}

TEST_F(ClickConsumerTest, WhileTheRawStoreIsDownNothingIsCountedThenEverythingOnce) {
  raw_.down = true;
  for (int i = 0; i < 10; ++i) source_.Append(i % 3, Payload(i, "abc"));
  ClickConsumer consumer(source_, log_, raw_, nullptr, aggregator_, Fast());
  ASSERT_TRUE(consumer.Start());
  ASSERT_TRUE(WaitUntil([&] { return consumer.counters().store_errors >= 2; }));
  EXPECT_EQ(Clicks("abc"), 0);
  EXPECT_FALSE(consumer.healthy());
  raw_.down = false;
  ASSERT_TRUE(WaitUntil([&] { return Clicks("abc") == 10; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Clicks("abc"), 10);
  EXPECT_TRUE(consumer.healthy());
  consumer.Stop();
}

TEST_F(ClickConsumerTest, AnotherConsumersProgressWinsAndThisOneContinuesFromIt) {
  for (int i = 0; i < 6; ++i) source_.Append(0, Payload(i, "abc"));
  // Another member stored offsets 0..3 of partition 0 while this one read them too.
  core::ClickBatch other;
  other.id = "other-1";
  other.positions.push_back(core::PositionMove{kStream, 0, 0, 4});
  ClickConsumer::Options slow = Fast();
  slow.flush_interval = std::chrono::milliseconds(300);
  ClickConsumer consumer(source_, log_, raw_, nullptr, aggregator_, slow);
  ASSERT_TRUE(consumer.Start());
  ASSERT_TRUE(WaitUntil([&] { return consumer.counters().consumed == 6; }));
  ASSERT_TRUE(log_.Apply(other));  // stored before this consumer's window is due
  ASSERT_TRUE(WaitUntil([&] { return Stored(0) == 6; }));
  EXPECT_EQ(consumer.counters().conflicts, 1u);
  EXPECT_GE(source_.seeks(), 1);
  EXPECT_EQ(Clicks("abc"), 2);  // offsets 4 and 5: the other member counted 0..3
  consumer.Stop();
}

TEST_F(ClickConsumerTest, ARebalanceForgetsTheOpenWindowAndResumesAtTheStoredPositions) {
  for (int i = 0; i < 5; ++i) source_.Append(0, Payload(i, "abc"));
  ClickConsumer consumer(source_, log_, raw_, nullptr, aggregator_, Fast());
  ASSERT_TRUE(consumer.Start());
  ASSERT_TRUE(WaitUntil([&] { return Stored(0) == 5; }));
  for (int i = 5; i < 9; ++i) source_.Append(0, Payload(i, "abc"));
  source_.Rebalance();
  for (int i = 9; i < 12; ++i) source_.Append(0, Payload(i, "abc"));
  ASSERT_TRUE(WaitUntil([&] { return Stored(0) == 12; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Clicks("abc"), 12);
  consumer.Stop();
}

// Raw clicks go out chunk by chunk, the counts once per window.
TEST_F(ClickConsumerTest, RawChunksAreInsertedAtOnceTheCountsPerWindow) {
  ClickConsumer::Options o = Fast();
  o.chunk = 4;
  o.flush_interval = std::chrono::milliseconds(1500);
  for (int i = 0; i < 10; ++i) source_.Append(i % 3, Payload(i, "code" + std::to_string(i)));
  const auto start = std::chrono::steady_clock::now();
  ClickConsumer consumer(source_, log_, raw_, nullptr, aggregator_, o);
  ASSERT_TRUE(consumer.Start());
  // Two full chunks of four (partition 0: codes 0 3 6 9, then 1 4 7 2) are in the raw store at
  // once; the last two messages wait in the chunk until the window is stored.
  ASSERT_TRUE(WaitUntil([&] { return raw_.store.Count("code2", kT0, kT0 + 100) == 1; }));
  for (int i : {0, 3, 6, 9, 1, 4, 7}) {
    EXPECT_EQ(raw_.store.Count("code" + std::to_string(i), kT0, kT0 + 100), 1) << i;
  }
  if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000)) {
    EXPECT_EQ(Clicks("code0"), 0);  // the window is open for 1.5 s
  }
  ASSERT_TRUE(WaitUntil([&] { return consumer.counters().stored == 10; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1400));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Clicks("code" + std::to_string(i)), 1) << i;
    EXPECT_EQ(raw_.store.Count("code" + std::to_string(i), kT0, kT0 + 100), 1) << i;
  }
  EXPECT_EQ(consumer.counters().windows, 1u);
  consumer.Stop();
}

// A log that takes its time, like a database under load.
class SlowClickLog final : public ports::ClickLog {
 public:
  explicit SlowClickLog(ports::ClickLog& inner) : inner_(inner) {}
  core::Result<bool> Apply(const core::ClickBatch& batch) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return inner_.Apply(batch);
  }
  core::Result<std::vector<core::StreamPosition>> Positions(std::string_view stream) override {
    return inner_.Positions(stream);
  }

 private:
  ports::ClickLog& inner_;
};

// When storing is slow, windows grow (twice the last store's time) instead of queueing up;
// meanwhile reading goes on, and every click is counted once.
TEST_F(ClickConsumerTest, ASlowStoreMakesWindowsLongerAndReadingGoesOn) {
  SlowClickLog slow(log_);
  ClickConsumer consumer(source_, slow, raw_, nullptr, aggregator_, Fast());
  ASSERT_TRUE(consumer.Start());
  const auto start = std::chrono::steady_clock::now();
  int n = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500)) {
    source_.Append(n % 3, Payload(n, "abc"));
    ++n;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(
      WaitUntil([&] { return consumer.counters().stored == static_cast<std::uint64_t>(n); }));
  EXPECT_EQ(Clicks("abc"), n);
  // With 20 ms windows and a 200 ms store there would be one store per 200 ms and the reads
  // would wait for each; with windows of 400 ms there are at most about five.
  EXPECT_LE(consumer.counters().windows, 6u);
  EXPECT_GE(consumer.counters().windows, 2u);
  consumer.Stop();
}

TEST_F(ClickConsumerTest, StopStoresTheOpenWindow) {
  ClickConsumer::Options slow = Fast();
  slow.flush_interval = std::chrono::milliseconds(60'000);
  for (int i = 0; i < 7; ++i) source_.Append(i % 3, Payload(i, "abc"));
  ClickConsumer consumer(source_, log_, raw_, nullptr, aggregator_, slow);
  ASSERT_TRUE(consumer.Start());
  ASSERT_TRUE(WaitUntil([&] { return consumer.counters().consumed == 7; }));
  EXPECT_EQ(Clicks("abc"), 0);
  consumer.Stop();
  EXPECT_EQ(Clicks("abc"), 7);
}

}  // namespace
}  // namespace kurz::service
