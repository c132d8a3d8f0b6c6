#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/click_log.hpp"

// The ClickLog and StatsStore contract. Instantiate with a backend type (see backends.hpp).
namespace kurz::testing {

constexpr core::Micros kDay = 86'400 * core::kMicrosPerSecond;
// 2026-11-18 00:00:00 UTC.
constexpr core::Micros kDay0 = (kT0 / kDay) * kDay;
constexpr core::Date kDate0{static_cast<std::int32_t>(kT0 / kDay)};

inline core::Date DatePlus(int days) { return core::Date{kDate0.days + days}; }

// A visitor as the drain names one: 32 hex characters.
inline std::string Visitor(int n) {
  std::string hex = Numbered("", n);
  hex.insert(0, 32 - hex.size(), '0');
  return hex;
}

// `clicks` clicks of `code` on day kDate0 + `day`, the last one `at` into that day.
inline core::ClickDelta Delta(const std::string& code, int day, std::int64_t clicks,
                              std::initializer_list<int> visitors, core::Micros at = 1) {
  core::ClickDelta delta;
  delta.code = code;
  delta.date = DatePlus(day);
  delta.clicks = clicks;
  delta.last_clicked_at = kDay0 + day * kDay + at;
  for (int v : visitors) delta.visitors.push_back(Visitor(v));
  return delta;
}

inline core::ClickBatch Batch(const std::string& id, std::vector<core::ClickDelta> deltas) {
  return core::ClickBatch{id, std::move(deltas)};
}

// A batch read from an event stream: its deltas and the positions it moves.
inline core::ClickBatch StreamBatch(const std::string& id, std::vector<core::ClickDelta> deltas,
                                    std::vector<core::PositionMove> moves) {
  return core::ClickBatch{id, std::move(deltas), std::move(moves)};
}

inline core::PositionMove Move(const std::string& stream, std::int32_t partition, std::int64_t from,
                               std::int64_t to) {
  return core::PositionMove{stream, partition, from, to};
}

// `delta` with its breakdown of dimension `d` set to `values`.
inline core::ClickDelta With(core::ClickDelta delta, core::Dimension d, core::Breakdown values) {
  delta.breakdowns[static_cast<std::size_t>(d)] = std::move(values);
  return delta;
}

inline const core::Breakdown& Of(const core::LinkStats& stats, core::Dimension d) {
  return stats.breakdowns[static_cast<std::size_t>(d)];
}

// The wall clock: retention is by it, so tests of minutes and hours place them relative to it.
inline core::Micros Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The start of the `unit` (minute, hour) that t lies in; t is after 1970.
inline core::Micros Floor(core::Micros t, core::Micros unit) { return t - t % unit; }

// One minute bucket of `code` as its own delta (dated by the bucket, so it may be any minute).
inline core::ClickDelta MinuteDelta(const std::string& code, core::Micros start,
                                    std::int64_t clicks, std::int64_t bot_clicks = 0) {
  core::ClickDelta delta;
  delta.code = code;
  delta.date = core::DateOf(start);
  delta.clicks = clicks;
  delta.bot_clicks = bot_clicks;
  delta.last_clicked_at = clicks > 0 ? start : 0;
  delta.minutes.push_back(core::BucketCount{start, clicks, bot_clicks});
  return delta;
}

template <class Backend>
class ClickStoreContract : public ::testing::Test {
 protected:
  ports::ClickLog& log() { return backend_.ClickLog(); }
  ports::StatsStore& stats() { return backend_.Stats(); }

  // Applies batch, expecting `expected` (true: applied now, false: applied before).
  void Apply(const core::ClickBatch& batch, bool expected = true) {
    auto applied = log().Apply(batch);
    ASSERT_TRUE(applied) << Describe(applied);
    EXPECT_EQ(*applied, expected) << batch.id;
  }

  core::LinkStats StatsOf(const std::string& code, core::Date from, core::Date to) {
    auto stats = this->stats().Stats(code, from, to);
    EXPECT_TRUE(stats) << Describe(stats);
    return stats ? *stats : core::LinkStats{};
  }

  std::vector<core::BucketCount> SeriesOf(const std::string& code, core::Granularity g,
                                          core::Micros from, core::Micros to) {
    auto series = this->stats().Series(code, g, from, to);
    EXPECT_TRUE(series) << Describe(series);
    return series ? *series : std::vector<core::BucketCount>{};
  }

  // The stored positions of `stream`, by partition.
  std::vector<core::StreamPosition> PositionsOf(const std::string& stream) {
    auto positions = log().Positions(stream);
    EXPECT_TRUE(positions) << Describe(positions);
    if (!positions) return {};
    std::sort(positions->begin(), positions->end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    return *positions;
  }

  // Applies batch, expecting it to fail with `code`; returns the error's detail.
  std::string Refused(const core::ClickBatch& batch, core::ErrorCode code) {
    auto applied = log().Apply(batch);
    EXPECT_FALSE(applied) << batch.id << " was applied";
    if (applied) return "";
    EXPECT_EQ(applied.error().code, code) << Describe(applied);
    return applied.error().detail;
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(ClickStoreContract);

using PositionList = std::vector<core::StreamPosition>;

TYPED_TEST_P(ClickStoreContract, ABatchAppliedTwiceCountsOnce) {
  const core::ClickBatch batch =
      Batch("w-1", {Delta("abc", 0, 3, {1, 2}), Delta("xyz", 0, 1, {1})});
  this->Apply(batch);
  this->Apply(batch, false);
  // Same id, other content: still "applied before", nothing changes.
  this->Apply(Batch("w-1", {Delta("abc", 0, 100, {7})}), false);
  core::LinkStats abc = this->StatsOf("abc", kDate0, kDate0);
  EXPECT_EQ(abc.total_clicks, 3);
  EXPECT_EQ(abc.unique_visitors, 2);
  ASSERT_EQ(abc.daily.size(), 1u);
  EXPECT_EQ(abc.daily[0].clicks, 3);
  EXPECT_EQ(abc.daily[0].unique_visitors, 2);
  EXPECT_EQ(this->StatsOf("xyz", kDate0, kDate0).total_clicks, 1);
}

TYPED_TEST_P(ClickStoreContract, DailyCountsAddUpAcrossBatches) {
  this->Apply(Batch("w-1", {Delta("abc", 0, 3, {}), Delta("xyz", 0, 5, {})}));
  this->Apply(Batch("w-2", {Delta("abc", 0, 2, {}), Delta("abc", 1, 4, {})}));
  this->Apply(Batch("w-3", {Delta("abc", 1, 1, {}), Delta("abc", 3, 7, {})}));
  core::LinkStats abc = this->StatsOf("abc", kDate0, DatePlus(3));
  EXPECT_EQ(abc.total_clicks, 17);
  ASSERT_EQ(abc.daily.size(), 3u);
  EXPECT_EQ(abc.daily[0].date, kDate0);
  EXPECT_EQ(abc.daily[0].clicks, 5);
  EXPECT_EQ(abc.daily[1].date, DatePlus(1));
  EXPECT_EQ(abc.daily[1].clicks, 5);
  EXPECT_EQ(abc.daily[2].date, DatePlus(3));
  EXPECT_EQ(abc.daily[2].clicks, 7);
  EXPECT_EQ(this->StatsOf("xyz", kDate0, DatePlus(3)).total_clicks, 5);
}

TYPED_TEST_P(ClickStoreContract, AVisitorCountsOncePerDayAndOnceOverTheRange) {
  // Day 0: visitors 1, 2 in one window, 2, 3 in the next: 3 distinct. Day 1: 1 and 4 (1 was
  // here on day 0 too). Day 3: 5. Another code shares visitors but not counts.
  this->Apply(Batch("w-1", {Delta("abc", 0, 2, {1, 2}), Delta("xyz", 0, 1, {1})}));
  this->Apply(Batch("w-2", {Delta("abc", 0, 3, {2, 3}), Delta("abc", 1, 2, {1, 4})}));
  this->Apply(Batch("w-3", {Delta("abc", 1, 1, {4}), Delta("abc", 3, 1, {5})}));

  core::LinkStats all = this->StatsOf("abc", kDate0, DatePlus(3));
  EXPECT_EQ(all.total_clicks, 9);
  EXPECT_EQ(all.unique_visitors, 5);
  ASSERT_EQ(all.daily.size(), 3u);
  EXPECT_EQ(all.daily[0].unique_visitors, 3);
  EXPECT_EQ(all.daily[1].unique_visitors, 2);
  EXPECT_EQ(all.daily[2].unique_visitors, 1);

  EXPECT_EQ(this->StatsOf("abc", kDate0, DatePlus(1)).unique_visitors, 4);       // 1, 2, 3, 4
  EXPECT_EQ(this->StatsOf("abc", DatePlus(1), DatePlus(3)).unique_visitors, 3);  // 1, 4, 5
  EXPECT_EQ(this->StatsOf("abc", DatePlus(1), DatePlus(1)).unique_visitors, 2);
  EXPECT_EQ(this->StatsOf("xyz", kDate0, DatePlus(3)).unique_visitors, 1);
}

TYPED_TEST_P(ClickStoreContract, ARepeatedVisitorWithinADeltaCountsOnce) {
  this->Apply(Batch("w-1", {Delta("abc", 0, 3, {1, 1, 2})}));
  core::LinkStats abc = this->StatsOf("abc", kDate0, kDate0);
  EXPECT_EQ(abc.unique_visitors, 2);
  ASSERT_EQ(abc.daily.size(), 1u);
  EXPECT_EQ(abc.daily[0].unique_visitors, 2);
}

TYPED_TEST_P(ClickStoreContract, TheLinksClickCountGrows) {
  auto owner = AddUser(this->backend_.Accounts(), "c@example.com").first;
  ASSERT_TRUE(this->backend_.Links().Insert(NewLink("abc", owner, kT0)));
  ASSERT_TRUE(this->backend_.Links().Insert(NewLink("xyz", owner, kT0)));
  const core::ClickBatch first =
      Batch("w-1", {Delta("abc", 0, 2, {1}), Delta("abc", 1, 3, {1}), Delta("unknown", 0, 9, {})});
  this->Apply(first);
  this->Apply(first, false);
  this->Apply(Batch("w-2", {Delta("abc", 1, 4, {2}), Delta("xyz", 1, 1, {2})}));
  auto abc = this->backend_.Links().Find("abc");
  ASSERT_TRUE(abc) << Describe(abc);
  EXPECT_EQ(abc->click_count, 9);
  auto xyz = this->backend_.Links().Find("xyz");
  ASSERT_TRUE(xyz) << Describe(xyz);
  EXPECT_EQ(xyz->click_count, 1);
}

TYPED_TEST_P(ClickStoreContract, StatsRespectTheBounds) {
  this->Apply(Batch("w-1", {Delta("abc", -1, 1, {1}), Delta("abc", 0, 2, {2}),
                            Delta("abc", 2, 4, {3}), Delta("abc", 5, 8, {4})}));
  // Both ends inclusive; days outside the range are not counted.
  core::LinkStats middle = this->StatsOf("abc", kDate0, DatePlus(2));
  EXPECT_EQ(middle.total_clicks, 6);
  EXPECT_EQ(middle.unique_visitors, 2);
  ASSERT_EQ(middle.daily.size(), 2u);
  EXPECT_EQ(middle.daily[0].date, kDate0);
  EXPECT_EQ(middle.daily[1].date, DatePlus(2));

  core::LinkStats one = this->StatsOf("abc", DatePlus(2), DatePlus(2));
  EXPECT_EQ(one.total_clicks, 4);
  EXPECT_EQ(one.unique_visitors, 1);
  ASSERT_EQ(one.daily.size(), 1u);

  core::LinkStats gap = this->StatsOf("abc", DatePlus(3), DatePlus(4));
  EXPECT_EQ(gap.total_clicks, 0);
  EXPECT_EQ(gap.unique_visitors, 0);
  EXPECT_TRUE(gap.daily.empty());

  core::LinkStats wide = this->StatsOf("abc", core::Date{-1'000'000}, core::Date{3'000'000});
  EXPECT_EQ(wide.total_clicks, 15);
  EXPECT_EQ(wide.unique_visitors, 4);
  EXPECT_EQ(wide.daily.size(), 4u);

  core::LinkStats reversed = this->StatsOf("abc", DatePlus(2), kDate0);
  EXPECT_EQ(reversed.total_clicks, 0);
  EXPECT_TRUE(reversed.daily.empty());

  core::LinkStats unknown = this->StatsOf("nope", kDate0, DatePlus(5));
  EXPECT_EQ(unknown.total_clicks, 0);
  EXPECT_EQ(unknown.unique_visitors, 0);
  EXPECT_TRUE(unknown.daily.empty());
}

TYPED_TEST_P(ClickStoreContract, AnEmptyBatchIsFine) {
  this->Apply(Batch("w-1", {}));
  this->Apply(Batch("w-1", {}), false);
  this->Apply(Batch("w-2", {Delta("abc", 0, 1, {1})}));
  EXPECT_EQ(this->StatsOf("abc", kDate0, kDate0).total_clicks, 1);
}

TYPED_TEST_P(ClickStoreContract, DaysBefore1970Work) {
  core::ClickDelta old = Delta("abc", 0, 2, {1});
  old.date = core::Date{-1};
  old.last_clicked_at = -1;
  this->Apply(Batch("w-1", {old}));
  core::LinkStats stats = this->StatsOf("abc", core::Date{-1}, core::Date{-1});
  EXPECT_EQ(stats.total_clicks, 2);
  ASSERT_EQ(stats.daily.size(), 1u);
  EXPECT_EQ(stats.daily[0].date, core::Date{-1});
  EXPECT_EQ(stats.daily[0].unique_visitors, 1);
}

TYPED_TEST_P(ClickStoreContract, ADateBeyondYear9999IsRefusedAndNothingApplied) {
  core::ClickDelta far = Delta("abc", 0, 1, {1});
  far.date = core::Date{3'000'000};
  auto refused = this->log().Apply(Batch("w-1", {Delta("abc", 0, 1, {1}), far}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->StatsOf("abc", kDate0, kDate0).total_clicks, 0);
  this->Apply(Batch("w-1", {Delta("abc", 0, 1, {1})}));  // the id was not taken
}

TYPED_TEST_P(ClickStoreContract, BotClicksAreCountedApartAndABotOnlyDayIsListed) {
  auto owner = AddUser(this->backend_.Accounts(), "b@example.com").first;
  ASSERT_TRUE(this->backend_.Links().Insert(NewLink("abc", owner, kT0)));
  core::ClickDelta humans = Delta("abc", 0, 3, {1, 2});
  humans.bot_clicks = 5;
  core::ClickDelta bots_only = Delta("abc", 1, 0, {});
  bots_only.bot_clicks = 4;
  bots_only.last_clicked_at = 0;
  this->Apply(Batch("w-1", {humans, bots_only}));

  core::LinkStats stats = this->StatsOf("abc", kDate0, DatePlus(1));
  EXPECT_EQ(stats.total_clicks, 3);
  EXPECT_EQ(stats.bot_clicks, 9);
  EXPECT_EQ(stats.unique_visitors, 2);
  ASSERT_EQ(stats.daily.size(), 2u);
  EXPECT_EQ(stats.daily[0], (core::DailyCount{kDate0, 3, 2, 5}));
  EXPECT_EQ(stats.daily[1], (core::DailyCount{DatePlus(1), 0, 0, 4}));

  core::LinkStats bot_day = this->StatsOf("abc", DatePlus(1), DatePlus(1));
  EXPECT_EQ(bot_day.total_clicks, 0);
  EXPECT_EQ(bot_day.bot_clicks, 4);
  EXPECT_EQ(bot_day.unique_visitors, 0);
  ASSERT_EQ(bot_day.daily.size(), 1u);
  EXPECT_EQ(bot_day.daily[0], (core::DailyCount{DatePlus(1), 0, 0, 4}));

  auto link = this->backend_.Links().Find("abc");
  ASSERT_TRUE(link) << Describe(link);
  EXPECT_EQ(link->click_count, 3);  // human clicks only
}

TYPED_TEST_P(ClickStoreContract, BreakdownsAddUpAcrossBatchesAndDaysSorted) {
  using D = core::Dimension;
  core::ClickDelta first =
      With(Delta("abc", 0, 4, {}), D::kReferrer, {{"b.example", 1}, {"a.example", 2}});
  first = With(std::move(first), D::kCountry, {{"DE", 3}, {"FR", 1}});
  this->Apply(Batch("w-1", {first}));
  core::ClickDelta same_day =
      With(Delta("abc", 0, 3, {}), D::kReferrer, {{"b.example", 2}, {"c.example", 1}});
  same_day = With(std::move(same_day), D::kDevice, {{"mobile", 3}});
  core::ClickDelta next_day =
      With(Delta("abc", 1, 6, {}), D::kReferrer, {{"c.example", 5}, {"a.example", 1}});
  next_day = With(std::move(next_day), D::kBrowser, {{"Firefox", 2}, {"Chrome", 4}});
  next_day = With(std::move(next_day), D::kOs, {{"Linux", 6}});
  next_day = With(std::move(next_day), D::kCity, {{"Berlin", 1}, {"Paris", 1}});
  this->Apply(
      Batch("w-2", {same_day, next_day, With(Delta("xyz", 0, 9, {}), D::kOs, {{"iOS", 9}})}));

  core::LinkStats both = this->StatsOf("abc", kDate0, DatePlus(1));
  // Most clicks first, ties by value.
  EXPECT_EQ(Of(both, D::kReferrer),
            (core::Breakdown{{"c.example", 6}, {"a.example", 3}, {"b.example", 3}}));
  EXPECT_EQ(Of(both, D::kCountry), (core::Breakdown{{"DE", 3}, {"FR", 1}}));
  EXPECT_EQ(Of(both, D::kDevice), (core::Breakdown{{"mobile", 3}}));
  EXPECT_EQ(Of(both, D::kBrowser), (core::Breakdown{{"Chrome", 4}, {"Firefox", 2}}));
  EXPECT_EQ(Of(both, D::kOs), (core::Breakdown{{"Linux", 6}}));
  EXPECT_EQ(Of(both, D::kCity), (core::Breakdown{{"Berlin", 1}, {"Paris", 1}}));

  core::LinkStats day0 = this->StatsOf("abc", kDate0, kDate0);
  EXPECT_EQ(Of(day0, D::kReferrer),
            (core::Breakdown{{"b.example", 3}, {"a.example", 2}, {"c.example", 1}}));
  EXPECT_TRUE(Of(day0, D::kOs).empty());
  EXPECT_TRUE(Of(day0, D::kBrowser).empty());
  core::LinkStats day1 = this->StatsOf("abc", DatePlus(1), DatePlus(1));
  EXPECT_EQ(Of(day1, D::kReferrer), (core::Breakdown{{"c.example", 5}, {"a.example", 1}}));
  EXPECT_TRUE(Of(day1, D::kCountry).empty());
  EXPECT_EQ(Of(this->StatsOf("xyz", kDate0, DatePlus(1)), D::kOs), (core::Breakdown{{"iOS", 9}}));
}

TYPED_TEST_P(ClickStoreContract, ValuesBeyondTheDailyCapFoldIntoOther) {
  core::Breakdown hundred;
  for (int i = 0; i < static_cast<int>(core::kMaxValuesPerDay); ++i) {
    hundred.push_back(core::ValueCount{Numbered("v", i), 1});
  }
  this->Apply(Batch("w-1", {With(Delta("abc", 0, 100, {}), core::Dimension::kReferrer, hundred)}));
  // Day 0 is full: a known value still counts as itself, new ones as "(other)". Day 1 has room.
  this->Apply(
      Batch("w-2", {With(Delta("abc", 0, 6, {}), core::Dimension::kReferrer,
                         {{"v5", 2}, {"new1", 3}, {"new2", 1}}),
                    With(Delta("abc", 1, 2, {}), core::Dimension::kReferrer, {{"new1", 2}})}));
  this->Apply(Batch("w-3", {With(Delta("abc", 0, 1, {}), core::Dimension::kReferrer,
                                 {{std::string(core::kOtherValue), 1}})}));

  const core::Breakdown day0 = Of(this->StatsOf("abc", kDate0, kDate0), core::Dimension::kReferrer);
  ASSERT_EQ(day0.size(), core::kMaxValuesPerDay + 1);
  EXPECT_EQ(day0[0], (core::ValueCount{std::string(core::kOtherValue), 5}));
  EXPECT_EQ(day0[1], (core::ValueCount{"v5", 3}));
  for (const core::ValueCount& v : day0) {
    EXPECT_TRUE(v.value != "new1" && v.value != "new2") << v.value;
  }
  const core::Breakdown both =
      Of(this->StatsOf("abc", kDate0, DatePlus(1)), core::Dimension::kReferrer);
  ASSERT_EQ(both.size(), core::kMaxValuesPerDay + 2);  // the range's sum is not capped
  EXPECT_EQ(both[0], (core::ValueCount{std::string(core::kOtherValue), 5}));
  EXPECT_EQ(both[1], (core::ValueCount{"v5", 3}));
  EXPECT_EQ(both[2], (core::ValueCount{"new1", 2}));
}

TYPED_TEST_P(ClickStoreContract, AReappliedBatchChangesNoBreakdownOrBucket) {
  const core::Micros minute = Floor(Now() - core::kMicrosPerHour, core::kMicrosPerMinute);
  core::ClickDelta delta = MinuteDelta("abc", minute, 2, 1);
  delta = With(std::move(delta), core::Dimension::kCountry, {{"DE", 2}});
  const core::ClickBatch batch = Batch("w-1", {delta});
  this->Apply(batch);
  this->Apply(batch, false);
  const core::LinkStats stats = this->StatsOf("abc", delta.date, delta.date);
  EXPECT_EQ(stats.total_clicks, 2);
  EXPECT_EQ(stats.bot_clicks, 1);
  EXPECT_EQ(Of(stats, core::Dimension::kCountry), (core::Breakdown{{"DE", 2}}));
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kMinute, minute, minute + 1),
            (std::vector<core::BucketCount>{{minute, 2, 1}}));
  const core::Micros hour = Floor(minute, core::kMicrosPerHour);
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kHour, hour, hour + 1),
            (std::vector<core::BucketCount>{{hour, 2, 1}}));
}

TYPED_TEST_P(ClickStoreContract, SeriesPerMinuteAndHourKeepTheBounds) {
  using Buckets = std::vector<core::BucketCount>;
  constexpr core::Micros kMinute = core::kMicrosPerMinute;
  const core::Micros base = Floor(Now() - 3 * core::kMicrosPerHour, core::kMicrosPerHour);
  this->Apply(
      Batch("w-1", {MinuteDelta("abc", base, 2, 1), MinuteDelta("abc", base + kMinute, 1),
                    MinuteDelta("abc", base + 65 * kMinute, 4), MinuteDelta("xyz", base, 7)}));
  this->Apply(
      Batch("w-2", {MinuteDelta("abc", base + 5 * kMinute, 0, 3), MinuteDelta("abc", base, 1)}));

  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kMinute, base, base + 5 * kMinute),
            (Buckets{{base, 3, 1}, {base + kMinute, 1, 0}}));
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kMinute, base + 1, base + 6 * kMinute),
            (Buckets{{base + kMinute, 1, 0}, {base + 5 * kMinute, 0, 3}}));
  EXPECT_EQ(
      this->SeriesOf("abc", core::Granularity::kMinute, base - kMinute, base + 2 * 60 * kMinute),
      (Buckets{{base, 3, 1},
               {base + kMinute, 1, 0},
               {base + 5 * kMinute, 0, 3},
               {base + 65 * kMinute, 4, 0}}));

  const core::Micros hour = core::kMicrosPerHour;
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kHour, base, base + hour),
            (Buckets{{base, 4, 4}}));
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kHour, base, base + 2 * hour),
            (Buckets{{base, 4, 4}, {base + hour, 4, 0}}));
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kHour, base + 1, base + 3 * hour),
            (Buckets{{base + hour, 4, 0}}));
  EXPECT_EQ(this->SeriesOf("xyz", core::Granularity::kHour, base - hour, base + hour),
            (Buckets{{base, 7, 0}}));

  EXPECT_TRUE(this->SeriesOf("abc", core::Granularity::kMinute, base + kMinute, base).empty());
  EXPECT_TRUE(this->SeriesOf("abc", core::Granularity::kHour, base, base).empty());
  EXPECT_TRUE(this->SeriesOf("nope", core::Granularity::kMinute, base - hour, base + hour).empty());
}

TYPED_TEST_P(ClickStoreContract, SeriesPerDayComesFromTheDailyCounts) {
  using Buckets = std::vector<core::BucketCount>;
  core::ClickDelta day1 = Delta("abc", 1, 3, {1});
  day1.bot_clicks = 1;
  core::ClickDelta day3 = Delta("abc", 3, 0, {});
  day3.bot_clicks = 4;
  this->Apply(Batch("w-1", {Delta("abc", 0, 2, {1}), day1, day3}));

  // Days whose midnight lies in [from, to).
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kDay, kDay0 + 1, kDay0 + 3 * kDay),
            (Buckets{{kDay0 + kDay, 3, 1}}));
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kDay, kDay0, kDay0 + 3 * kDay + 1),
            (Buckets{{kDay0, 2, 0}, {kDay0 + kDay, 3, 1}, {kDay0 + 3 * kDay, 0, 4}}));
  const auto all =
      this->SeriesOf("abc", core::Granularity::kDay, std::numeric_limits<core::Micros>::min(),
                     std::numeric_limits<core::Micros>::max());
  EXPECT_EQ(all.size(), 3u);
  EXPECT_TRUE(this->SeriesOf("abc", core::Granularity::kDay, kDay0 + 3 * kDay, kDay0).empty());
  EXPECT_TRUE(this->SeriesOf("abc", core::Granularity::kDay, kDay0 + 1, kDay0 + kDay).empty());
}

TYPED_TEST_P(ClickStoreContract, OldMinutesAndHoursAreDeletedByTheWallClock) {
  const core::Micros now = Now();
  const core::Micros recent = Floor(now - core::kMicrosPerHour, core::kMicrosPerMinute);
  const core::Micros old = Floor(now - 50 * core::kMicrosPerHour, core::kMicrosPerMinute);
  const core::Micros ancient =
      Floor(now - core::kHourRetention - 24 * core::kMicrosPerHour, core::kMicrosPerMinute);
  this->Apply(Batch("w-1", {MinuteDelta("abc", recent, 1), MinuteDelta("abc", old, 2),
                            MinuteDelta("abc", ancient, 3)}));
  this->Apply(Batch("w-2", {MinuteDelta("xyz", recent, 1)}));

  const core::Micros wide_from = ancient - 2 * kDay;
  const core::Micros wide_to = now + core::kMicrosPerHour;
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kMinute, wide_from, wide_to),
            (std::vector<core::BucketCount>{{recent, 1, 0}}));
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kHour, wide_from, wide_to),
            (std::vector<core::BucketCount>{{Floor(old, core::kMicrosPerHour), 2, 0},
                                            {Floor(recent, core::kMicrosPerHour), 1, 0}}));
  // Daily counts are kept.
  EXPECT_EQ(this->StatsOf("abc", core::DateOf(ancient), core::DateOf(now)).total_clicks, 6);
}

TYPED_TEST_P(ClickStoreContract, InvalidBucketsAndNegativeCountsAreRefusedAndNothingApplied) {
  const core::Micros minute = Floor(Now() - core::kMicrosPerHour, core::kMicrosPerMinute);
  std::vector<std::pair<std::string, core::ClickDelta>> invalid;
  invalid.emplace_back("not a whole minute", MinuteDelta("abc", minute, 1));
  invalid.back().second.minutes[0].start += core::kMicrosPerSecond;
  invalid.emplace_back("another day's minute", MinuteDelta("abc", minute, 1));
  invalid.back().second.minutes[0].start = core::StartOf(invalid.back().second.date) + kDay;
  invalid.emplace_back("a minute before its day", MinuteDelta("abc", minute, 1));
  invalid.back().second.minutes[0].start = core::StartOf(invalid.back().second.date) - 60'000'000;
  invalid.emplace_back("negative minute clicks", MinuteDelta("abc", minute, 1));
  invalid.back().second.minutes[0].clicks = -1;
  invalid.emplace_back("negative minute bot clicks", MinuteDelta("abc", minute, 1));
  invalid.back().second.minutes[0].bot_clicks = -1;
  invalid.emplace_back("negative bot clicks", MinuteDelta("abc", minute, 1));
  invalid.back().second.bot_clicks = -1;
  invalid.emplace_back("negative breakdown",
                       With(MinuteDelta("abc", minute, 1), core::Dimension::kOs, {{"Linux", -1}}));

  const core::ClickDelta valid =
      With(MinuteDelta("abc", minute, 2, 1), core::Dimension::kOs, {{"Linux", 2}});
  const core::Date day = valid.date;
  for (const auto& [why, bad] : invalid) {
    auto refused = this->log().Apply(Batch("w-1", {valid, bad}));
    ASSERT_FALSE(refused) << why;
    EXPECT_EQ(refused.error().code, core::ErrorCode::kInvalidArgument) << why;
    const core::LinkStats stats = this->StatsOf("abc", day, day);
    EXPECT_EQ(stats.total_clicks, 0) << why;
    EXPECT_EQ(stats.bot_clicks, 0) << why;
    EXPECT_TRUE(stats.daily.empty()) << why;
    EXPECT_TRUE(Of(stats, core::Dimension::kOs).empty()) << why;
    EXPECT_TRUE(
        this->SeriesOf("abc", core::Granularity::kMinute, minute - kDay, minute + kDay).empty())
        << why;
    EXPECT_TRUE(
        this->SeriesOf("abc", core::Granularity::kHour, minute - kDay, minute + kDay).empty())
        << why;
  }
  this->Apply(Batch("w-1", {valid}));  // the id was not taken
  EXPECT_EQ(this->SeriesOf("abc", core::Granularity::kMinute, minute, minute + 1),
            (std::vector<core::BucketCount>{{minute, 2, 1}}));
}

TYPED_TEST_P(ClickStoreContract, TheFirstBatchStoresPositionsAndTheNextMovesThemOn) {
  EXPECT_TRUE(this->PositionsOf("g/clicks").empty());
  // Nothing stored yet: any `from` starts the partition.
  this->Apply(StreamBatch("w-1", {Delta("abc", 0, 3, {1})},
                          {Move("g/clicks", 0, 0, 10), Move("g/clicks", 2, 5, 7)}));
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{0, 10}, {2, 7}}));
  this->Apply(StreamBatch("w-2", {Delta("abc", 0, 2, {2})}, {Move("g/clicks", 0, 10, 25)}));
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{0, 25}, {2, 7}}));
  // An empty range (nothing read) is a move too.
  this->Apply(StreamBatch("w-3", {}, {Move("g/clicks", 2, 7, 7), Move("g/clicks", 1, 0, 4)}));
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{0, 25}, {1, 4}, {2, 7}}));
  EXPECT_EQ(this->StatsOf("abc", kDate0, kDate0).total_clicks, 5);
}

TYPED_TEST_P(ClickStoreContract, AStaleFromConflictsAndAppliesNothing) {
  this->Apply(StreamBatch("w-1", {Delta("abc", 0, 3, {1})},
                          {Move("g/clicks", 0, 0, 10), Move("g/clicks", 1, 0, 7)}));
  // Partition 0 is at 10; this consumer thinks it is at 5 (it lost the partition meanwhile).
  // The move of partition 1 is fine, but nothing of the batch may be applied.
  core::ClickDelta minute = MinuteDelta("xyz", Floor(Now(), core::kMicrosPerMinute), 4, 1);
  const core::ClickBatch stale =
      StreamBatch("w-2", {Delta("abc", 0, 5, {2, 3}), minute},
                  {Move("g/clicks", 1, 7, 9), Move("g/clicks", 0, 5, 8)});
  const std::string why = this->Refused(stale, core::ErrorCode::kConflict);
  EXPECT_NE(why.find("stream position of g/clicks partition 0 is 10, not 5"), std::string::npos)
      << why;
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{0, 10}, {1, 7}}));
  const core::LinkStats abc = this->StatsOf("abc", kDate0, kDate0);
  EXPECT_EQ(abc.total_clicks, 3);
  EXPECT_EQ(abc.unique_visitors, 1);
  EXPECT_EQ(this->StatsOf("xyz", minute.date, minute.date).total_clicks, 0);
  EXPECT_TRUE(this->SeriesOf("xyz", core::Granularity::kMinute, minute.minutes[0].start - kDay,
                             minute.minutes[0].start + kDay)
                  .empty());
  // A stale `from` ahead of the stored offset conflicts too.
  this->Refused(StreamBatch("w-3", {}, {Move("g/clicks", 0, 12, 20)}), core::ErrorCode::kConflict);
  // The conflicting batch's id was not taken: from the right offsets it applies.
  this->Apply(StreamBatch("w-2", {Delta("abc", 0, 5, {2, 3}), minute},
                          {Move("g/clicks", 1, 7, 9), Move("g/clicks", 0, 10, 13)}));
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{0, 13}, {1, 9}}));
  EXPECT_EQ(this->StatsOf("abc", kDate0, kDate0).total_clicks, 8);
  EXPECT_EQ(this->StatsOf("xyz", minute.date, minute.date).total_clicks, 4);
}

TYPED_TEST_P(ClickStoreContract, PositionsOfAnotherStreamAreIndependent) {
  this->Apply(StreamBatch("w-1", {}, {Move("g1/clicks", 0, 0, 10)}));
  // Same partition number, another stream (another group or topic): starts on its own.
  this->Apply(StreamBatch("w-2", {}, {Move("g2/clicks", 0, 3, 4), Move("g1/other", 0, 0, 1)}));
  this->Apply(StreamBatch("w-3", {}, {Move("g1/clicks", 0, 10, 11)}));
  this->Refused(StreamBatch("w-4", {}, {Move("g2/clicks", 0, 10, 12)}), core::ErrorCode::kConflict);
  EXPECT_EQ(this->PositionsOf("g1/clicks"), (PositionList{{0, 11}}));
  EXPECT_EQ(this->PositionsOf("g2/clicks"), (PositionList{{0, 4}}));
  EXPECT_EQ(this->PositionsOf("g1/other"), (PositionList{{0, 1}}));
  EXPECT_TRUE(this->PositionsOf("g1").empty());
  EXPECT_TRUE(this->PositionsOf("nope").empty());
}

TYPED_TEST_P(ClickStoreContract, ARetriedBatchWithPositionsIsANoOp) {
  const core::ClickBatch batch =
      StreamBatch("w-1", {Delta("abc", 0, 3, {1})}, {Move("g/clicks", 0, 0, 10)});
  this->Apply(batch);
  // Its `from` is stale now, but the id says it was applied: false, not conflict.
  this->Apply(batch, false);
  this->Apply(StreamBatch("w-1", {Delta("abc", 0, 9, {})}, {Move("g/clicks", 0, 10, 20)}), false);
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{0, 10}}));
  EXPECT_EQ(this->StatsOf("abc", kDate0, kDate0).total_clicks, 3);
}

TYPED_TEST_P(ClickStoreContract, InvalidMovesAreRefusedAndNothingApplied) {
  std::vector<std::pair<std::string, core::PositionMove>> invalid = {
      {"empty stream", Move("", 0, 0, 1)},
      {"negative partition", Move("g/clicks", -1, 0, 1)},
      {"negative from", Move("g/clicks", 1, -1, 1)},
      {"negative to", Move("g/clicks", 1, -2, -1)},
      {"backwards", Move("g/clicks", 1, 5, 4)},
      {"partition moved twice", Move("g/clicks", 0, 1, 2)},
  };
  for (const auto& [why, bad] : invalid) {
    this->Refused(StreamBatch("w-1", {Delta("abc", 0, 3, {1})}, {Move("g/clicks", 0, 0, 1), bad}),
                  core::ErrorCode::kInvalidArgument);
    EXPECT_TRUE(this->PositionsOf("g/clicks").empty()) << why;
    EXPECT_TRUE(this->PositionsOf("").empty()) << why;
    EXPECT_EQ(this->StatsOf("abc", kDate0, kDate0).total_clicks, 0) << why;
  }
  this->Apply(StreamBatch("w-1", {Delta("abc", 0, 3, {1})}, {Move("g/clicks", 0, 0, 1)}));
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{0, 1}}));
}

TYPED_TEST_P(ClickStoreContract, ABatchWithoutDeltasMovesPositionsOnly) {
  this->Apply(StreamBatch("w-1", {}, {Move("g/clicks", 3, 100, 250)}));
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{3, 250}}));
  this->Apply(StreamBatch("w-2", {}, {Move("g/clicks", 3, 250, 1'000'000'000'000)}));
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{3, 1'000'000'000'000}}));
  this->Apply(StreamBatch("w-2", {}, {Move("g/clicks", 3, 250, 300)}), false);
  EXPECT_EQ(this->PositionsOf("g/clicks"), (PositionList{{3, 1'000'000'000'000}}));
}

REGISTER_TYPED_TEST_SUITE_P(
    ClickStoreContract, ABatchAppliedTwiceCountsOnce, DailyCountsAddUpAcrossBatches,
    AVisitorCountsOncePerDayAndOnceOverTheRange, ARepeatedVisitorWithinADeltaCountsOnce,
    TheLinksClickCountGrows, StatsRespectTheBounds, AnEmptyBatchIsFine, DaysBefore1970Work,
    ADateBeyondYear9999IsRefusedAndNothingApplied, BotClicksAreCountedApartAndABotOnlyDayIsListed,
    BreakdownsAddUpAcrossBatchesAndDaysSorted, ValuesBeyondTheDailyCapFoldIntoOther,
    AReappliedBatchChangesNoBreakdownOrBucket, SeriesPerMinuteAndHourKeepTheBounds,
    SeriesPerDayComesFromTheDailyCounts, OldMinutesAndHoursAreDeletedByTheWallClock,
    InvalidBucketsAndNegativeCountsAreRefusedAndNothingApplied,
    TheFirstBatchStoresPositionsAndTheNextMovesThemOn, AStaleFromConflictsAndAppliesNothing,
    PositionsOfAnotherStreamAreIndependent, ARetriedBatchWithPositionsIsANoOp,
    InvalidMovesAreRefusedAndNothingApplied, ABatchWithoutDeltasMovesPositionsOnly);

}  // namespace kurz::testing
