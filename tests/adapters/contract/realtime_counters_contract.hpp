#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "core/time.hpp"
#include "ports/realtime_counters.hpp"

// The RealtimeCounters contract. Instantiate with a backend type that has Counters() and
// OtherCounters(): two instances' views of one store (they may be the same object).
//
// Times are relative to the wall clock, since stores expire minutes and days by it.
namespace kurz::testing {

namespace realtime {

constexpr core::Micros kMinute = core::kMicrosPerMinute;
constexpr core::Micros kDay = 24 * core::kMicrosPerHour;

inline core::Micros WallNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline core::Micros MinuteOf(core::Micros t) { return t - t % kMinute; }  // t after 1970

// A visitor id as the drain names one: 32 hex characters.
inline std::string VisitorId(std::uint64_t n) {
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", 0x6b75727aULL,
                static_cast<unsigned long long>(n * 0x9E3779B97F4A7C15ULL));
  return hex;
}

// `clicks` human clicks of `code` in the minute starting at `minute`, by `visitors`.
inline core::ClickDelta InMinute(const std::string& code, core::Micros minute, std::int64_t clicks,
                                 std::vector<std::string> visitors = {}) {
  core::ClickDelta delta;
  delta.code = code;
  delta.date = core::DateOf(minute);
  delta.clicks = clicks;
  delta.last_clicked_at = clicks > 0 ? minute : 0;
  delta.visitors = std::move(visitors);
  delta.minutes.push_back(core::BucketCount{minute, clicks, 0});
  return delta;
}

// Visitors `first` .. `first + count - 1`.
inline std::vector<std::string> Visitors(std::uint64_t first, std::uint64_t count) {
  std::vector<std::string> ids;
  ids.reserve(count);
  for (std::uint64_t i = first; i < first + count; ++i) ids.push_back(VisitorId(i));
  return ids;
}

}  // namespace realtime

template <class Backend>
class RealtimeCountersContract : public ::testing::Test {
 protected:
  ports::RealtimeCounters& counters() { return backend_.Counters(); }
  ports::RealtimeCounters& other() { return backend_.OtherCounters(); }

  void Add(const std::vector<core::ClickDelta>& deltas) {
    auto added = counters().Add(deltas);
    ASSERT_TRUE(added) << Describe(added);
  }

  ports::RealtimeStats Read(const std::string& code, core::Micros now) {
    auto stats = counters().Read(code, now);
    EXPECT_TRUE(stats) << Describe(stats);
    return stats ? *stats : ports::RealtimeStats{};
  }

  Backend backend_;
  const core::Micros now_ = realtime::WallNow();
  const core::Micros minute_ = realtime::MinuteOf(now_);  // the minute `now_` lies in
};

TYPED_TEST_SUITE_P(RealtimeCountersContract);

using realtime::InMinute;
using realtime::kDay;
using realtime::kMinute;
using realtime::Visitors;

TYPED_TEST_P(RealtimeCountersContract, TotalsAddUpAcrossAddCalls) {
  EXPECT_EQ(this->Read("abc", this->now_), (ports::RealtimeStats{}));
  this->Add({InMinute("abc", this->minute_, 3)});
  this->Add({InMinute("abc", this->minute_ - kMinute, 2), InMinute("xyz", this->minute_, 5)});
  // Several deltas of one code in one call (two days of a batch), and one without minutes.
  core::ClickDelta no_minutes = InMinute("abc", this->minute_ - kDay, 4);
  no_minutes.minutes.clear();
  this->Add({InMinute("abc", this->minute_, 1), no_minutes});
  this->Add({});
  const ports::RealtimeStats abc = this->Read("abc", this->now_);
  EXPECT_EQ(abc.clicks, 10);
  EXPECT_EQ(abc.clicks_last_hour, 6);
  // Another instance reads the same counters.
  auto seen = this->other().Read("abc", this->now_);
  ASSERT_TRUE(seen) << Describe(seen);
  EXPECT_EQ(*seen, abc);
  EXPECT_EQ(this->Read("xyz", this->now_).clicks, 5);
}

TYPED_TEST_P(RealtimeCountersContract, TheLastHourIsTheSixtyMinutesBeforeNow) {
  const core::Micros m = this->minute_;
  this->Add({InMinute("abc", m, 2), InMinute("abc", m - 30 * kMinute, 1),
             InMinute("abc", m - 59 * kMinute, 3), InMinute("abc", m - 60 * kMinute, 7),
             InMinute("abc", m - 90 * kMinute, 11)});
  this->Add({InMinute("abc", m - 30 * kMinute, 5), InMinute("abc", m + kMinute, 4)});
  const ports::RealtimeStats stats = this->Read("abc", this->now_);
  EXPECT_EQ(stats.clicks, 33);
  // The current minute and the 59 before it; not older ones, nor later ones.
  EXPECT_EQ(stats.clicks_last_hour, 2 + 1 + 5 + 3);
  // At the very start and the very end of the current minute, the same.
  EXPECT_EQ(this->Read("abc", m).clicks_last_hour, 11);
  EXPECT_EQ(this->Read("abc", m + kMinute - 1).clicks_last_hour, 11);
  // An hour on, only the minute after this one is still within the hour.
  EXPECT_EQ(this->Read("abc", this->now_ + 60 * kMinute).clicks_last_hour, 4);
  // A minute earlier, the minute 60 back is within it and the current one is not.
  EXPECT_EQ(this->Read("abc", this->now_ - kMinute).clicks_last_hour, 1 + 5 + 3 + 7);
}

TYPED_TEST_P(RealtimeCountersContract, AVisitorCountsOnceADay) {
  const core::Micros m = this->minute_;
  this->Add({InMinute("abc", m, 3, Visitors(1, 3))});
  this->Add({InMinute("abc", m, 3, Visitors(2, 3)), InMinute("xyz", m, 1, Visitors(1, 1))});
  // Yesterday's visitors are not today's.
  core::ClickDelta yesterday = InMinute("abc", m, 1, Visitors(100, 2));
  yesterday.date = core::Date{core::DateOf(this->now_).days - 1};
  yesterday.minutes.clear();
  this->Add({yesterday});
  EXPECT_EQ(this->Read("abc", this->now_).visitors_today, 4);
  EXPECT_EQ(this->Read("abc", this->now_ - kDay).visitors_today, 2);
  EXPECT_EQ(this->Read("abc", this->now_ + kDay).visitors_today, 0);
  EXPECT_EQ(this->Read("xyz", this->now_).visitors_today, 1);
}

TYPED_TEST_P(RealtimeCountersContract, ManyVisitorsAreEstimatedWithinTwoPercent) {
  constexpr int kVisitors = 10'000;
  const core::Micros m = this->minute_;
  for (int i = 0; i < 10; ++i) {
    this->Add({InMinute("abc", m, 1, Visitors(i * 1000, 1000))});
  }
  this->Add({InMinute("abc", m, 1, Visitors(5000, 2000))});  // seen before: no new ones
  const std::int64_t estimate = this->Read("abc", this->now_).visitors_today;
  EXPECT_LE(std::abs(estimate - kVisitors), kVisitors * 2 / 100) << estimate;
}

TYPED_TEST_P(RealtimeCountersContract, BotClicksAreNotCounted) {
  const core::Micros m = this->minute_;
  core::ClickDelta bots = InMinute("abc", m, 0);
  bots.bot_clicks = 5;
  bots.minutes[0].bot_clicks = 5;
  this->Add({bots});
  EXPECT_EQ(this->Read("abc", this->now_), (ports::RealtimeStats{}));
  core::ClickDelta mixed = InMinute("abc", m, 2, Visitors(1, 1));
  mixed.bot_clicks = 3;
  mixed.minutes[0].bot_clicks = 3;
  this->Add({mixed});
  EXPECT_EQ(this->Read("abc", this->now_), (ports::RealtimeStats{2, 2, 1}));
}

TYPED_TEST_P(RealtimeCountersContract, CodesAreIndependent) {
  const core::Micros m = this->minute_;
  this->Add({InMinute("abc", m, 3, Visitors(1, 2)), InMinute("ab", m, 1, Visitors(1, 1)),
             InMinute("abcd", m - 5 * kMinute, 7, Visitors(10, 3)),
             InMinute("ABC", m, 2, Visitors(1, 5))});
  EXPECT_EQ(this->Read("abc", this->now_), (ports::RealtimeStats{3, 3, 2}));
  EXPECT_EQ(this->Read("ab", this->now_), (ports::RealtimeStats{1, 1, 1}));
  EXPECT_EQ(this->Read("abcd", this->now_), (ports::RealtimeStats{7, 7, 3}));
  EXPECT_EQ(this->Read("ABC", this->now_), (ports::RealtimeStats{2, 2, 5}));
  EXPECT_EQ(this->Read("a", this->now_), (ports::RealtimeStats{}));
}

// A worker's window holds thousands of codes (on a cluster: spread over every node).
TYPED_TEST_P(RealtimeCountersContract, AWindowOfManyCodesIsCountedWhole) {
  std::vector<core::ClickDelta> deltas;
  for (int i = 0; i < 1'234; ++i) {
    deltas.push_back(InMinute("many" + std::to_string(i), this->minute_, 1 + i % 7,
                              Visitors(static_cast<std::uint64_t>(i), 2)));
  }
  this->Add(deltas);
  for (int i = 0; i < 1'234; i += 97) {
    const ports::RealtimeStats stats = this->Read("many" + std::to_string(i), this->now_);
    EXPECT_EQ(stats.clicks, 1 + i % 7) << i;
    EXPECT_EQ(stats.clicks_last_hour, 1 + i % 7) << i;
    EXPECT_EQ(stats.visitors_today, 2) << i;
  }
}

REGISTER_TYPED_TEST_SUITE_P(RealtimeCountersContract, TotalsAddUpAcrossAddCalls,
                            TheLastHourIsTheSixtyMinutesBeforeNow, AVisitorCountsOnceADay,
                            ManyVisitorsAreEstimatedWithinTwoPercent, BotClicksAreNotCounted,
                            CodesAreIndependent, AWindowOfManyCodesIsCountedWhole);

}  // namespace kurz::testing
