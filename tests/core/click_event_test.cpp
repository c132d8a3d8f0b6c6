#include "core/click_event.hpp"

#include <cstddef>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace kurz::core {
namespace {

const std::string kOther(kOtherValue);

TEST(DimensionNameTest, NamesEachDimensionAsTheStatsApiDoes) {
  EXPECT_EQ(DimensionName(Dimension::kReferrer), "referrers");
  EXPECT_EQ(DimensionName(Dimension::kCountry), "countries");
  EXPECT_EQ(DimensionName(Dimension::kDevice), "devices");
  EXPECT_EQ(DimensionName(Dimension::kBrowser), "browsers");
  EXPECT_EQ(DimensionName(Dimension::kOs), "os");
  EXPECT_EQ(DimensionName(Dimension::kCity), "cities");
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kDimensionCount; ++i) {
    names.insert(DimensionName(static_cast<Dimension>(i)));
  }
  EXPECT_EQ(names.size(), kDimensionCount);
  EXPECT_FALSE(names.contains("unknown"));
}

TEST(MergeBreakdownTest, AddsMatchingValuesAndAppendsNewOnes) {
  Breakdown into{{"a", 2}, {"b", 1}};
  MergeBreakdown(into, {{"b", 4}, {"c", 3}, {"a", 1}});
  EXPECT_EQ(into, (Breakdown{{"a", 3}, {"b", 5}, {"c", 3}}));
}

TEST(MergeBreakdownTest, MatchesValuesExactly) {
  Breakdown into{{"Example.com", 1}};
  MergeBreakdown(into, {{"example.com", 1}, {"Example.com ", 1}});
  EXPECT_EQ(into, (Breakdown{{"Example.com", 1}, {"example.com", 1}, {"Example.com ", 1}}));
}

TEST(MergeBreakdownTest, SumsRepeatedValuesAndSkipsZeroCounts) {
  Breakdown into;
  MergeBreakdown(into, {{"a", 1}, {"z", 0}, {"a", 2}});
  EXPECT_EQ(into, (Breakdown{{"a", 3}}));
}

TEST(MergeBreakdownTest, NewValuesBeyondTheCapGoToOther) {
  Breakdown into{{"a", 1}, {"b", 1}, {"c", 1}};
  MergeBreakdown(into, {{"d", 2}, {"b", 1}, {"e", 3}}, /*cap=*/3);
  EXPECT_EQ(into, (Breakdown{{"a", 1}, {"b", 2}, {"c", 1}, {kOther, 5}}));
  // Once "(other)" exists it is added to, and it does not count towards the cap.
  MergeBreakdown(into, {{"f", 1}, {"a", 1}}, 3);
  EXPECT_EQ(into, (Breakdown{{"a", 2}, {"b", 2}, {"c", 1}, {kOther, 6}}));
}

TEST(MergeBreakdownTest, OtherItselfIsNotCountedAgainstTheCap) {
  Breakdown into{{kOther, 4}, {"a", 1}};
  MergeBreakdown(into, {{"b", 1}, {kOther, 2}, {"c", 1}}, /*cap=*/2);
  EXPECT_EQ(into, (Breakdown{{kOther, 7}, {"a", 1}, {"b", 1}}));
}

TEST(MergeBreakdownTest, AnAdditionLargerThanTheCapKeepsItsFirstValues) {
  Breakdown into;
  MergeBreakdown(into, {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}, /*cap=*/2);
  EXPECT_EQ(into, (Breakdown{{"a", 1}, {"b", 2}, {kOther, 7}}));
}

TEST(MergeBreakdownTest, TheDefaultCapIsTheDailyOne) {
  Breakdown into;
  Breakdown add;
  for (std::size_t i = 0; i <= kMaxValuesPerDay; ++i) {
    add.push_back(ValueCount{"v" + std::to_string(i), 1});
  }
  MergeBreakdown(into, add);
  ASSERT_EQ(into.size(), kMaxValuesPerDay + 1);
  EXPECT_EQ(into.back(), (ValueCount{kOther, 1}));
  EXPECT_EQ(into[kMaxValuesPerDay - 1].value, "v" + std::to_string(kMaxValuesPerDay - 1));
}

TEST(SortBreakdownTest, MostClicksFirstThenByValue) {
  Breakdown b{{"b", 2}, {"c", 5}, {"a", 2}, {kOther, 3}, {"d", 1}};
  SortBreakdown(b);
  EXPECT_EQ(b, (Breakdown{{"c", 5}, {kOther, 3}, {"a", 2}, {"b", 2}, {"d", 1}}));
  SortBreakdown(b);
  EXPECT_EQ(b, (Breakdown{{"c", 5}, {kOther, 3}, {"a", 2}, {"b", 2}, {"d", 1}}));
  Breakdown empty;
  SortBreakdown(empty);
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace kurz::core

namespace kurz::core {
namespace {

TEST(BucketsTest, SumByStartSortsMergesAndDropsEmptyBuckets) {
  std::vector<BucketCount> b = {{120, 1, 0}, {60, 2, 1}, {120, 3, 2}, {180, 0, 0}};
  SumByStart(b);
  EXPECT_EQ(b, (std::vector<BucketCount>{{60, 2, 1}, {120, 4, 2}}));
}

TEST(BucketsTest, HoursOfSumsMinutesIntoTheirHoursAlsoBefore1970) {
  const std::vector<BucketCount> minutes = {{kMicrosPerHour + kMicrosPerMinute, 1, 0},
                                            {kMicrosPerHour + 2 * kMicrosPerMinute, 2, 1},
                                            {-kMicrosPerMinute, 5, 0}};
  EXPECT_EQ(HoursOf(minutes),
            (std::vector<BucketCount>{{-kMicrosPerHour, 5, 0}, {kMicrosPerHour, 3, 1}}));
}

}  // namespace
}  // namespace kurz::core
