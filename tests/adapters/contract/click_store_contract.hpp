#pragma once

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

inline core::ClickRecord Click(const std::string& id, const std::string& code, core::Micros at,
                               const std::string& ip_hash) {
  core::ClickRecord click;
  click.event_id = id;
  click.code = code;
  click.at = at;
  click.ip_hash = ip_hash;
  click.user_agent = "Mozilla/5.0";
  click.referrer = "https://news.example/";
  click.accept_language = "de-DE";
  return click;
}

template <class Backend>
class ClickStoreContract : public ::testing::Test {
 protected:
  ports::ClickLog& log() { return backend_.ClickLog(); }
  ports::StatsStore& stats() { return backend_.Stats(); }

  core::LinkStats StatsOf(const std::string& code, core::Date from, core::Date to) {
    auto stats = this->stats().Stats(code, from, to);
    EXPECT_TRUE(stats) << Describe(stats);
    return stats ? *stats : core::LinkStats{};
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(ClickStoreContract);

TYPED_TEST_P(ClickStoreContract, AppendReturnsHowManyWereNew) {
  std::vector<core::ClickRecord> batch = {Click("e1", "abc", kDay0 + 1, "ip1"),
                                          Click("e2", "abc", kDay0 + 2, "ip2"),
                                          Click("e3", "xyz", kDay0 + 3, "ip1")};
  auto added = this->log().Append(batch);
  ASSERT_TRUE(added) << Describe(added);
  EXPECT_EQ(*added, 3u);
  auto empty = this->log().Append({});
  ASSERT_TRUE(empty) << Describe(empty);
  EXPECT_EQ(*empty, 0u);
}

TYPED_TEST_P(ClickStoreContract, ReplayingABatchCountsItOnce) {
  std::vector<core::ClickRecord> batch = {Click("e1", "abc", kDay0 + 1, "ip1"),
                                          Click("e2", "abc", kDay0 + 2, "ip2")};
  ASSERT_EQ(*this->log().Append(batch), 2u);
  auto replay = this->log().Append(batch);
  ASSERT_TRUE(replay) << Describe(replay);
  EXPECT_EQ(*replay, 0u);
  // A batch that overlaps the applied ones only adds the new click.
  batch.push_back(Click("e3", "abc", kDay0 + 3, "ip3"));
  EXPECT_EQ(*this->log().Append(batch), 1u);
  EXPECT_EQ(this->StatsOf("abc", kDate0, kDate0).total_clicks, 3);
}

TYPED_TEST_P(ClickStoreContract, DuplicatesWithinABatchCountOnce) {
  std::vector<core::ClickRecord> batch = {Click("same", "abc", kDay0 + 1, "ip1"),
                                          Click("same", "abc", kDay0 + 1, "ip1")};
  EXPECT_EQ(*this->log().Append(batch), 1u);
  EXPECT_EQ(this->StatsOf("abc", kDate0, kDate0).total_clicks, 1);
}

TYPED_TEST_P(ClickStoreContract, StatsCountPerDayAndVisitorsPerDayAndOverTheRange) {
  std::vector<core::ClickRecord> batch = {
      // day 0: 3 clicks, 2 visitors
      Click("a1", "abc", kDay0, "ip1"),
      Click("a2", "abc", kDay0 + kDay / 2, "ip2"),
      Click("a3", "abc", kDay0 + kDay - 1, "ip1"),
      // day 1: 2 clicks, 2 visitors (ip2 again, ip3 new)
      Click("b1", "abc", kDay0 + kDay, "ip2"),
      Click("b2", "abc", kDay0 + kDay + 5, "ip3"),
      // day 3: 1 click
      Click("d1", "abc", kDay0 + 3 * kDay + 7, "ip4"),
      // another code on the same days
      Click("x1", "xyz", kDay0 + 1, "ip1"),
      Click("x2", "xyz", kDay0 + kDay + 1, "ip9"),
  };
  ASSERT_EQ(*this->log().Append(batch), batch.size());

  core::LinkStats all = this->StatsOf("abc", kDate0, DatePlus(3));
  EXPECT_EQ(all.total_clicks, 6);
  EXPECT_EQ(all.unique_visitors, 4);
  ASSERT_EQ(all.daily.size(), 3u);
  EXPECT_EQ(all.daily[0].date, kDate0);
  EXPECT_EQ(all.daily[0].clicks, 3);
  EXPECT_EQ(all.daily[0].unique_visitors, 2);
  EXPECT_EQ(all.daily[1].date, DatePlus(1));
  EXPECT_EQ(all.daily[1].clicks, 2);
  EXPECT_EQ(all.daily[1].unique_visitors, 2);
  EXPECT_EQ(all.daily[2].date, DatePlus(3));
  EXPECT_EQ(all.daily[2].clicks, 1);
  EXPECT_EQ(all.daily[2].unique_visitors, 1);

  // Both ends inclusive; days outside the range are not counted.
  core::LinkStats day1 = this->StatsOf("abc", DatePlus(1), DatePlus(1));
  EXPECT_EQ(day1.total_clicks, 2);
  EXPECT_EQ(day1.unique_visitors, 2);
  ASSERT_EQ(day1.daily.size(), 1u);
  EXPECT_EQ(day1.daily[0].date, DatePlus(1));

  core::LinkStats first_two = this->StatsOf("abc", DatePlus(-10), DatePlus(1));
  EXPECT_EQ(first_two.total_clicks, 5);
  EXPECT_EQ(first_two.unique_visitors, 3);
  EXPECT_EQ(first_two.daily.size(), 2u);

  core::LinkStats other = this->StatsOf("xyz", kDate0, DatePlus(3));
  EXPECT_EQ(other.total_clicks, 2);
  EXPECT_EQ(other.unique_visitors, 2);
}

TYPED_TEST_P(ClickStoreContract, StatsOfUnknownCodeOrEmptyRangeAreZero) {
  ASSERT_EQ(*this->log().Append(std::vector{Click("e1", "abc", kDay0, "ip1")}), 1u);
  core::LinkStats unknown = this->StatsOf("nope", kDate0, DatePlus(1));
  EXPECT_EQ(unknown.total_clicks, 0);
  EXPECT_EQ(unknown.unique_visitors, 0);
  EXPECT_TRUE(unknown.daily.empty());
  core::LinkStats reversed = this->StatsOf("abc", DatePlus(1), kDate0);
  EXPECT_EQ(reversed.total_clicks, 0);
  EXPECT_TRUE(reversed.daily.empty());
  core::LinkStats before = this->StatsOf("abc", DatePlus(-5), DatePlus(-1));
  EXPECT_EQ(before.total_clicks, 0);
  EXPECT_EQ(before.unique_visitors, 0);
}

TYPED_TEST_P(ClickStoreContract, AppendAddsNewClicksToTheLinksClickCount) {
  auto owner = AddUser(this->backend_.Accounts(), "c@example.com").first;
  ASSERT_TRUE(this->backend_.Links().Insert(NewLink("abc", owner, kT0)));
  std::vector<core::ClickRecord> batch = {Click("e1", "abc", kDay0 + 1, "ip1"),
                                          Click("e2", "abc", kDay0 + kDay, "ip1"),
                                          Click("e3", "unknown", kDay0, "ip1")};
  ASSERT_EQ(*this->log().Append(batch), 3u);
  ASSERT_EQ(*this->log().Append(batch), 0u);
  auto link = this->backend_.Links().Find("abc");
  ASSERT_TRUE(link) << Describe(link);
  EXPECT_EQ(link->click_count, 2);
}

TYPED_TEST_P(ClickStoreContract, ClicksBefore1970LandOnTheRightDay) {
  ASSERT_EQ(*this->log().Append(std::vector{Click("old", "abc", -1, "ip1")}), 1u);
  core::LinkStats stats = this->StatsOf("abc", core::Date{-1}, core::Date{-1});
  EXPECT_EQ(stats.total_clicks, 1);
  ASSERT_EQ(stats.daily.size(), 1u);
  EXPECT_EQ(stats.daily[0].date, core::Date{-1});
  EXPECT_EQ(stats.daily[0].unique_visitors, 1);
}

REGISTER_TYPED_TEST_SUITE_P(ClickStoreContract, AppendReturnsHowManyWereNew,
                            ReplayingABatchCountsItOnce, DuplicatesWithinABatchCountOnce,
                            StatsCountPerDayAndVisitorsPerDayAndOverTheRange,
                            StatsOfUnknownCodeOrEmptyRangeAreZero,
                            AppendAddsNewClicksToTheLinksClickCount,
                            ClicksBefore1970LandOnTheRightDay);

}  // namespace kurz::testing
