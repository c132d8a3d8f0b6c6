#include "service/click_drain.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <tuple>

#include "adapters/memory/click_store.hpp"
#include "analytics/fakes.hpp"
#include "service/fakes.hpp"

namespace kurz::service {
namespace {

using fakes::FakeClock;
using fakes::kDay;
using fakes::kSecond;
using fakes::kT0;
using fakes::RecordingClickLog;

constexpr std::uint64_t kIdHi = 0x0123456789abcdefULL;
constexpr std::array<std::uint8_t, 4> kIp = {203, 0, 113, 7};
constexpr std::array<std::uint8_t, 4> kOtherIp = {198, 51, 100, 23};

std::array<std::uint8_t, 16> MappedIpv4(std::array<std::uint8_t, 4> v4) {
  std::array<std::uint8_t, 16> ip{};
  ip[10] = 0xff;
  ip[11] = 0xff;
  std::copy(v4.begin(), v4.end(), ip.begin() + 12);
  return ip;
}

core::ClickEvent Event(std::string_view code, core::Micros at,
                       std::array<std::uint8_t, 4> ip = kIp) {
  core::ClickEvent e;
  e.id_hi = kIdHi;
  e.at = at;
  e.code.Assign(code);
  e.ip = MappedIpv4(ip);
  e.user_agent.Assign("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0");
  e.referrer.Assign("https://news.example/item?id=1");
  e.accept_language.Assign("de-DE,de;q=0.9");
  return e;
}

void Push(ClickQueue& queue, const core::ClickEvent& event) {
  ASSERT_TRUE(queue.TryPush([&](core::ClickEvent& slot) { slot = event; }));
}

using fakes::WaitUntil;

class ClickDrainTest : public ::testing::Test {
 protected:
  ClickDrain::Options Fast() {
    ClickDrain::Options options;
    options.flush_interval = std::chrono::milliseconds(20);
    options.max_flush_interval = std::chrono::milliseconds(40);
    return options;
  }
  ClickDrain Make(ClickQueue& queue, ports::ClickLog& log) {
    return ClickDrain(queue, log, aggregator_, "test", Fast());
  }

  kurz::fakes::FakeUserAgentParser agents_;
  kurz::fakes::FakeGeoLocator geo_;
  analytics::Aggregator aggregator_{agents_, geo_, "secret"};
  FakeClock clock_;
  RecordingClickLog log_;
  ClickQueue queue_{4096};
};

TEST_F(ClickDrainTest, CountsEveryEventAcrossSeveralWindows) {
  ClickDrain drain(queue_, log_, aggregator_, "test", Fast());
  drain.Start();
  for (int i = 0; i < 3000; ++i) {
    Push(queue_, Event(i % 2 == 0 ? "even" : "odd", kT0 + i));
    if (i % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  ASSERT_TRUE(WaitUntil([&] { return log_.clicks() == 3000; })) << log_.clicks();
  drain.Stop();
  EXPECT_EQ(log_.clicks("even"), 1500);
  EXPECT_EQ(log_.clicks("odd"), 1500);
  EXPECT_GT(log_.batches(), 1u) << "one window should not hold everything";
  EXPECT_EQ(drain.stored(), 3000u);
  EXPECT_EQ(drain.pending(), 0u);
}

TEST_F(ClickDrainTest, AggregatesAWindowIntoOneDeltaPerCodeAndDay) {
  ClickDrain::Options slow;
  slow.flush_interval = std::chrono::hours(1);  // only Stop flushes
  slow.max_flush_interval = std::chrono::hours(1);
  ClickDrain drain(queue_, log_, aggregator_, "test", slow);
  const core::Micros day1 = core::StartOf(core::DateOf(kT0)) + 3600 * kSecond;
  for (int i = 0; i < 100; ++i) Push(queue_, Event("abc", day1 + i));
  for (int i = 0; i < 7; ++i) Push(queue_, Event("abc", day1 + kDay + i));
  Push(queue_, Event("xyz", day1 + 5));
  drain.Start();
  drain.Stop();
  auto deltas = log_.deltas();
  ASSERT_EQ(deltas.size(), 3u);
  std::sort(deltas.begin(), deltas.end(), [](const auto& a, const auto& b) {
    return std::tie(a.code, a.date.days) < std::tie(b.code, b.date.days);
  });
  EXPECT_EQ(deltas[0].code, "abc");
  EXPECT_EQ(deltas[0].date, core::DateOf(day1));
  EXPECT_EQ(deltas[0].clicks, 100);
  EXPECT_EQ(deltas[0].last_clicked_at, day1 + 99);
  EXPECT_EQ(deltas[0].visitors.size(), 1u) << "one visitor, however often";
  EXPECT_EQ(deltas[1].clicks, 7);
  EXPECT_EQ(deltas[1].date.days, core::DateOf(day1).days + 1);
  EXPECT_EQ(deltas[2].code, "xyz");
  EXPECT_EQ(deltas[2].clicks, 1);
}

TEST_F(ClickDrainTest, ABigWindowIsHeldLongerThanASmallOne) {
  ClickDrain::Options options;
  options.flush_interval = std::chrono::milliseconds(20);
  options.max_flush_interval = std::chrono::milliseconds(600);
  options.small_window = 10;
  ClickDrain drain(queue_, log_, aggregator_, "test", options);
  for (int i = 0; i < 50; ++i) Push(queue_, Event("code" + std::to_string(i), kT0 + i));
  drain.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(log_.clicks(), 0) << "50 keys > small_window: the window should still be open";
  ASSERT_TRUE(WaitUntil([&] { return log_.clicks() == 50; })) << log_.clicks();
  drain.Stop();
}

TEST_F(ClickDrainTest, DistinctVisitorsAreListedOnceEach) {
  ClickDrain drain = Make(queue_, log_);
  for (int i = 0; i < 10; ++i) {
    Push(queue_, Event("abc", kT0 + i, i % 2 == 0 ? kIp : kOtherIp));
  }
  drain.Start();
  drain.Stop();
  auto deltas = log_.deltas();
  std::set<std::string> visitors;
  std::int64_t clicks = 0;
  for (const auto& d : deltas) {
    clicks += d.clicks;
    visitors.insert(d.visitors.begin(), d.visitors.end());
  }
  EXPECT_EQ(clicks, 10);
  EXPECT_EQ(visitors.size(), 2u);
}

TEST_F(ClickDrainTest, StopStoresEverythingStillQueued) {
  for (int i = 0; i < 2500; ++i) Push(queue_, Event("abc", kT0 + i));
  ClickDrain drain = Make(queue_, log_);
  drain.Start();
  drain.Stop();
  EXPECT_EQ(log_.clicks(), 2500);
  EXPECT_EQ(queue_.depth(), 0u);
}

TEST_F(ClickDrainTest, StopWithoutStartStillDrains) {
  for (int i = 0; i < 10; ++i) Push(queue_, Event("abc", kT0 + i));
  ClickDrain drain = Make(queue_, log_);
  drain.Stop();
  EXPECT_EQ(log_.clicks(), 10);
}

TEST_F(ClickDrainTest, NoRawIpAppearsInWhatIsStored) {
  Push(queue_, Event("abc", kT0));
  ClickDrain drain = Make(queue_, log_);
  drain.Start();
  drain.Stop();
  auto deltas = log_.deltas();
  ASSERT_EQ(deltas.size(), 1u);
  for (const std::string& v : deltas[0].visitors) {
    EXPECT_EQ(v.find("203.0.113.7"), std::string::npos);
    EXPECT_EQ(v.find("cb007107"), std::string::npos) << "hex of the IPv4 bytes";
  }
}

TEST_F(ClickDrainTest, FailingLogIsRetriedWithTheSameBatchIdWithoutLoss) {
  for (int i = 0; i < 1500; ++i) Push(queue_, Event("abc", kT0 + i));
  log_.FailNext(3);
  ClickDrain drain = Make(queue_, log_);
  drain.Start();
  ASSERT_TRUE(WaitUntil([&] { return log_.clicks() == 1500; })) << log_.clicks();
  drain.Stop();
  EXPECT_EQ(log_.clicks(), 1500);
  EXPECT_EQ(drain.store_errors(), 3u);
  EXPECT_EQ(log_.duplicates(), 0u);
  EXPECT_EQ(drain.lost(), 0u);
}

TEST_F(ClickDrainTest, ARefusedBatchIsCountedLostAndDoesNotBlockLaterOnes) {
  ClickDrain drain = Make(queue_, log_);
  for (int i = 0; i < 10; ++i) Push(queue_, Event("abc", kT0 + i));
  log_.RefuseNext(1);
  drain.Start();
  ASSERT_TRUE(WaitUntil([&] { return drain.lost() == 10; })) << drain.lost();
  for (int i = 0; i < 5; ++i) Push(queue_, Event("abc", kT0 + 100 + i));
  ASSERT_TRUE(WaitUntil([&] { return log_.clicks() == 5; })) << log_.clicks();
  drain.Stop();
  EXPECT_EQ(drain.stored(), 5u);
  EXPECT_EQ(drain.pending(), 0u);
}

TEST_F(ClickDrainTest, EventsArrivingDuringAnOutageAreKept) {
  ClickDrain drain = Make(queue_, log_);
  log_.FailNext(6);  // about 50+100+200+400+800 ms of back-off
  drain.Start();
  for (int i = 0; i < 200; ++i) {
    Push(queue_, Event("abc", kT0 + i));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(WaitUntil([&] { return log_.clicks() == 200; })) << log_.clicks();
  drain.Stop();
  EXPECT_EQ(log_.clicks(), 200);
}

TEST_F(ClickDrainTest, TransientFailureDuringShutdownIsRetried) {
  for (int i = 0; i < 100; ++i) Push(queue_, Event("abc", kT0 + i));
  log_.FailNext(2);
  ClickDrain drain = Make(queue_, log_);
  drain.Start();
  drain.Stop();
  EXPECT_EQ(log_.clicks(), 100);
  EXPECT_EQ(drain.lost(), 0u);
}

TEST_F(ClickDrainTest, ALogThatStaysDownDoesNotHangShutdown) {
  ClickQueue backlog(16'384);
  for (int i = 0; i < 15'000; ++i) Push(backlog, Event(i % 3 == 0 ? "a" : "b", kT0 + i));
  log_.FailNext(1'000'000);
  ClickDrain drain = Make(backlog, log_);
  drain.Start();
  const auto start = std::chrono::steady_clock::now();
  drain.Stop();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, ClickDrain::kStopGrace + std::chrono::seconds(2))
      << "Stop took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms";
  EXPECT_EQ(drain.lost(), 15'000u) << "every undelivered click is accounted for";
  EXPECT_EQ(log_.clicks(), 0);
}

TEST_F(ClickDrainTest, StatsCountAVisitorOncePerDay) {
  adapters::memory::MemoryClickStore store;
  ClickDrain drain = Make(queue_, store);
  const core::Micros day1 = core::StartOf(core::DateOf(kT0)) + 3600 * kSecond;
  const core::Micros day2 = day1 + kDay;
  Push(queue_, Event("abc", day1, kIp));
  Push(queue_, Event("abc", day1 + 60 * kSecond, kIp));  // same visitor again
  Push(queue_, Event("abc", day1 + 120 * kSecond, kOtherIp));
  Push(queue_, Event("abc", day2, kIp));
  drain.Start();
  drain.Stop();

  auto stats = store.Stats("abc", core::DateOf(day1), core::DateOf(day2));
  ASSERT_TRUE(stats) << fakes::Describe(stats);
  EXPECT_EQ(stats->total_clicks, 4);
  ASSERT_EQ(stats->daily.size(), 2u);
  EXPECT_EQ(stats->daily[0].clicks, 3);
  EXPECT_EQ(stats->daily[0].unique_visitors, 2);
  EXPECT_EQ(stats->daily[1].clicks, 1);
  EXPECT_EQ(stats->daily[1].unique_visitors, 1);
}

// A store that commits a batch and then loses the answer (a connection cut after COMMIT): the
// drain cannot tell it from a failure, retries with the same id, and the store counts it once.
class AnswerLostClickLog final : public ports::ClickLog {
 public:
  explicit AnswerLostClickLog(ports::ClickLog& inner) : inner_(inner) {}
  core::Result<bool> Apply(const core::ClickBatch& batch) override {
    core::Result<bool> applied = inner_.Apply(batch);
    if (lose_next_ > 0 && applied) {
      --lose_next_;
      return core::Fail(core::ErrorCode::kUnavailable, "connection lost after commit");
    }
    return applied;
  }
  core::Result<std::vector<core::StreamPosition>> Positions(std::string_view stream) override {
    return inner_.Positions(stream);
  }
  int lose_next_ = 0;

 private:
  ports::ClickLog& inner_;
};

TEST_F(ClickDrainTest, ABatchCommittedButNotAcknowledgedIsCountedOnce) {
  adapters::memory::MemoryClickStore store;
  AnswerLostClickLog log(store);
  log.lose_next_ = 2;
  for (int i = 0; i < 50; ++i) Push(queue_, Event("abc", kT0 + i, i % 2 == 0 ? kIp : kOtherIp));
  core::ClickEvent bot = Event("abc", kT0 + 60);
  bot.user_agent.Assign("Googlebot");
  Push(queue_, bot);
  ClickDrain drain = Make(queue_, log);
  drain.Start();
  drain.Stop();
  EXPECT_EQ(log.lose_next_, 0) << "the lost answers were exercised";
  EXPECT_EQ(drain.stored(), 51u);
  EXPECT_EQ(drain.lost(), 0u);
  auto stats = store.Stats("abc", core::DateOf(kT0), core::DateOf(kT0));
  ASSERT_TRUE(stats) << fakes::Describe(stats);
  EXPECT_EQ(stats->total_clicks, 50);
  EXPECT_EQ(stats->bot_clicks, 1);
  EXPECT_EQ(stats->unique_visitors, 2);
}

}  // namespace
}  // namespace kurz::service
