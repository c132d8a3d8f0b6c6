#pragma once

#include <initializer_list>
#include <string>
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

  Backend backend_;
};

TYPED_TEST_SUITE_P(ClickStoreContract);

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

REGISTER_TYPED_TEST_SUITE_P(ClickStoreContract, ABatchAppliedTwiceCountsOnce,
                            DailyCountsAddUpAcrossBatches,
                            AVisitorCountsOncePerDayAndOnceOverTheRange,
                            ARepeatedVisitorWithinADeltaCountsOnce, TheLinksClickCountGrows,
                            StatsRespectTheBounds, AnEmptyBatchIsFine, DaysBefore1970Work,
                            ADateBeyondYear9999IsRefusedAndNothingApplied);

}  // namespace kurz::testing
