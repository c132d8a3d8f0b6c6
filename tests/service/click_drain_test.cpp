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

#include "adapters/memory/click_store.hpp"
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

bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class ClickDrainTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  RecordingClickLog log_;
  ClickQueue queue_{4096};
};

TEST_F(ClickDrainTest, StoresEveryEventAcrossSeveralBatches) {
  constexpr int kEvents = 2500;  // more than one batch of 1,000
  for (int i = 0; i < kEvents; ++i) Push(queue_, Event("c" + std::to_string(i % 10), kT0 + i));
  ClickDrain drain(queue_, log_, clock_, "secret");
  drain.Start();
  ASSERT_TRUE(WaitUntil([&] { return drain.stored() == kEvents; })) << drain.stored();
  drain.Stop();

  const auto records = log_.records();
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kEvents));
  std::set<std::string> ids;
  for (const core::ClickRecord& r : records) {
    ids.insert(r.event_id);
    EXPECT_EQ(r.code, "c" + std::to_string((r.at - kT0) % 10));
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents)) << "event ids must be unique";
  EXPECT_EQ(drain.store_errors(), 0u);
  EXPECT_EQ(log_.duplicates(), 0u);
}

TEST_F(ClickDrainTest, StoresEventsPushedWhileRunning) {
  ClickDrain drain(queue_, log_, clock_, "secret");
  drain.Start();
  for (int i = 0; i < 50; ++i) {
    Push(queue_, Event("live", kT0 + i));
    if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(WaitUntil([&] { return drain.stored() == 50; })) << drain.stored();
  drain.Stop();
  EXPECT_EQ(log_.size(), 50u);
}

TEST_F(ClickDrainTest, StopStoresEverythingStillQueued) {
  for (int i = 0; i < 1500; ++i) Push(queue_, Event("abc", kT0 + i));
  ClickDrain drain(queue_, log_, clock_, "secret");
  drain.Start();
  drain.Stop();
  EXPECT_EQ(log_.size(), 1500u);
  EXPECT_EQ(drain.stored(), 1500u);
  EXPECT_EQ(queue_.depth(), 0u);
  drain.Stop();  // idempotent
}

TEST_F(ClickDrainTest, RecordKeepsTheEventsFieldsAndA32HexId) {
  ClickDrain drain(queue_, log_, clock_, "secret");
  core::ClickEvent event = Event("abc1234", kT0);
  event.id_lo = 0x2a;
  const core::ClickRecord r = drain.ToRecord(event);
  EXPECT_EQ(r.event_id, "0123456789abcdef000000000000002a");
  EXPECT_EQ(r.at, kT0);
  EXPECT_EQ(r.code, "abc1234");
  EXPECT_EQ(r.user_agent, "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0");
  EXPECT_EQ(r.referrer, "https://news.example/item?id=1");
  EXPECT_EQ(r.accept_language, "de-DE,de;q=0.9");
  ASSERT_FALSE(r.ip_hash.empty());
  EXPECT_TRUE(std::all_of(r.ip_hash.begin(), r.ip_hash.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << r.ip_hash;
}

TEST_F(ClickDrainTest, SameIpOnTheSameDayHashesTheSame) {
  ClickDrain drain(queue_, log_, clock_, "secret");
  const core::Micros midnight = core::StartOf(core::DateOf(kT0));
  const auto morning = drain.ToRecord(Event("a", midnight + 1));
  const auto evening = drain.ToRecord(Event("other-code", midnight + kDay - 1));
  EXPECT_EQ(morning.ip_hash, evening.ip_hash);
}

TEST_F(ClickDrainTest, SameIpOnAnotherDayHashesDifferently) {
  ClickDrain drain(queue_, log_, clock_, "secret");
  const core::Micros midnight = core::StartOf(core::DateOf(kT0));
  const auto before = drain.ToRecord(Event("a", midnight - 1));
  const auto after = drain.ToRecord(Event("a", midnight));
  const auto next_week = drain.ToRecord(Event("a", midnight + 7 * kDay));
  EXPECT_NE(before.ip_hash, after.ip_hash) << "the salt must change at midnight UTC";
  EXPECT_NE(after.ip_hash, next_week.ip_hash);
}

TEST_F(ClickDrainTest, DifferentIpsOrSecretsHashDifferently) {
  ClickDrain drain(queue_, log_, clock_, "secret");
  ClickDrain other_instance(queue_, log_, clock_, "another secret");
  const auto a = drain.ToRecord(Event("a", kT0, kIp));
  const auto b = drain.ToRecord(Event("a", kT0, kOtherIp));
  const auto c = other_instance.ToRecord(Event("a", kT0, kIp));
  EXPECT_NE(a.ip_hash, b.ip_hash);
  EXPECT_NE(a.ip_hash, c.ip_hash) << "without the secret the hash must not be reproducible";
}

TEST_F(ClickDrainTest, NoRawIpAppearsInTheRecord) {
  ClickDrain drain(queue_, log_, clock_, "secret");
  const core::ClickRecord r = drain.ToRecord(Event("abc", kT0, kIp));
  const std::string fields[] = {r.event_id,   r.code,     r.ip_hash,
                                r.user_agent, r.referrer, r.accept_language};
  const std::string raw(reinterpret_cast<const char*>(kIp.data()), kIp.size());
  for (const std::string& f : fields) {
    EXPECT_EQ(f.find("203.0.113.7"), std::string::npos) << f;
    EXPECT_EQ(f.find("cb007107"), std::string::npos) << f;  // the address in hex
    EXPECT_EQ(f.find("ffffcb00"), std::string::npos) << f;
    EXPECT_EQ(f.find(raw), std::string::npos) << "raw address bytes in " << f;
  }
}

TEST_F(ClickDrainTest, FailingLogIsRetriedWithoutLoss) {
  log_.FailNext(3);
  for (int i = 0; i < 10; ++i) Push(queue_, Event("abc", kT0 + i));
  ClickDrain drain(queue_, log_, clock_, "secret");
  drain.Start();
  ASSERT_TRUE(WaitUntil([&] { return drain.stored() == 10; })) << drain.stored();
  drain.Stop();
  EXPECT_EQ(log_.size(), 10u);
  EXPECT_EQ(drain.store_errors(), 3u);
  EXPECT_EQ(log_.calls(), 4);
  EXPECT_EQ(log_.duplicates(), 0u);
}

TEST_F(ClickDrainTest, LongerOutageWhileRunningIsRidenOut) {
  log_.FailNext(5);  // about 1.5 s of back-off
  for (int i = 0; i < 10; ++i) Push(queue_, Event("abc", kT0 + i));
  ClickDrain drain(queue_, log_, clock_, "secret");
  drain.Start();
  ASSERT_TRUE(WaitUntil([&] { return drain.stored() == 10; })) << drain.stored();
  // Events that arrived during the outage are stored too.
  Push(queue_, Event("late", kT0 + 100));
  ASSERT_TRUE(WaitUntil([&] { return drain.stored() == 11; })) << drain.stored();
  drain.Stop();
  EXPECT_EQ(log_.size(), 11u);
  EXPECT_EQ(drain.store_errors(), 5u);
}

TEST_F(ClickDrainTest, TransientFailureDuringShutdownIsRetried) {
  log_.FailNext(3);
  for (int i = 0; i < 10; ++i) Push(queue_, Event("abc", kT0 + i));
  ClickDrain drain(queue_, log_, clock_, "secret");
  drain.Start();
  drain.Stop();
  EXPECT_EQ(log_.size(), 10u);
  EXPECT_EQ(drain.stored(), 10u);
}

TEST_F(ClickDrainTest, ALogThatStaysDownDoesNotHangShutdown) {
  // kurz must exit within 10 s of SIGTERM; a dead click store may cost clicks, not the exit.
  log_.FailNext(1'000'000);
  for (int i = 0; i < 10; ++i) Push(queue_, Event("abc", kT0 + i));
  ClickDrain drain(queue_, log_, clock_, "secret");
  drain.Start();
  ASSERT_TRUE(WaitUntil([&] { return drain.store_errors() >= 2; }));
  const auto start = std::chrono::steady_clock::now();
  drain.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(drain.stored(), 0u);
}

TEST_F(ClickDrainTest, ALogThatStaysDownDoesNotHangShutdownWithAFullQueue) {
  // Same, with a backlog of 15 batches (the default queue holds 65,536 events: 66 batches).
  ClickQueue backlog(16'384);
  for (int i = 0; i < 15'000; ++i) Push(backlog, Event("abc", kT0 + i));
  log_.FailNext(1'000'000);
  ClickDrain drain(backlog, log_, clock_, "secret");
  drain.Start();
  const auto start = std::chrono::steady_clock::now();
  drain.Stop();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(10))
      << "Stop took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms";
}

TEST_F(ClickDrainTest, StatsCountAVisitorOncePerDay) {
  adapters::memory::MemoryClickStore store;
  ClickDrain drain(queue_, store, clock_, "secret");
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

}  // namespace
}  // namespace kurz::service
