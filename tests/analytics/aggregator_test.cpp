#include "analytics/aggregator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "analytics/fakes.hpp"

namespace kurz::analytics {
namespace {

using core::Dimension;

constexpr core::Micros kMinute = core::kMicrosPerMinute;
// 2026-11-28T10:00:00Z
constexpr core::Micros kT0 = 1'795'860'000LL * core::kMicrosPerSecond;

const IpBytes kBerlin = fakes::MappedIpv4(203, 0, 113, 7);
const IpBytes kParis = fakes::MappedIpv4(198, 51, 100, 23);
const IpBytes kNowhere = fakes::MappedIpv4(192, 0, 2, 1);

constexpr const char* kDesktop = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0";
constexpr const char* kPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)";
constexpr const char* kBot = "Slackbot-LinkExpanding 1.0";

core::ClickEvent Event(std::string_view code, core::Micros at, const IpBytes& ip,
                       std::string_view ua = kDesktop, std::string_view referer = "") {
  core::ClickEvent e;
  e.at = at;
  e.code.Assign(code);
  e.ip = ip;
  e.user_agent.Assign(ua);
  e.referrer.Assign(referer);
  return e;
}

std::map<std::string, std::int64_t> AsMap(const core::Breakdown& b) {
  std::map<std::string, std::int64_t> m;
  for (const core::ValueCount& v : b) m[v.value] += v.clicks;
  return m;
}

const core::ClickDelta* Find(const std::vector<core::ClickDelta>& deltas, std::string_view code,
                             core::Date date) {
  for (const core::ClickDelta& d : deltas) {
    if (d.code == code && d.date == date) return &d;
  }
  return nullptr;
}

class AggregatorTest : public ::testing::Test {
 protected:
  AggregatorTest() {
    geo_.Add(kBerlin, "DE", "Berlin");
    geo_.Add(kParis, "FR", "Paris");
  }
  fakes::FakeUserAgentParser agents_;
  fakes::FakeGeoLocator geo_;
  Aggregator aggregator_{agents_, geo_, "secret"};
};

TEST_F(AggregatorTest, EnrichesAndBreaksDownHumanClicks) {
  aggregator_.Add(Event("abc", kT0, kBerlin, kDesktop, "https://News.Example.com/x?y=1"));
  aggregator_.Add(Event("abc", kT0 + 1, kBerlin, kDesktop, "https://news.example.com/"));
  aggregator_.Add(Event("abc", kT0 + 2, kParis, kPhone));
  aggregator_.Add(Event("abc", kT0 + 3, kNowhere, kPhone, "not a url at all"));
  const auto deltas = aggregator_.Take();
  ASSERT_EQ(deltas.size(), 1u);
  const core::ClickDelta& d = deltas[0];
  EXPECT_EQ(d.code, "abc");
  EXPECT_EQ(d.date, core::DateOf(kT0));
  EXPECT_EQ(d.clicks, 4);
  EXPECT_EQ(d.bot_clicks, 0);
  EXPECT_EQ(d.last_clicked_at, kT0 + 3);
  EXPECT_EQ(d.visitors.size(), 3u);
  const auto& b = d.breakdowns;
  using M = std::map<std::string, std::int64_t>;
  EXPECT_EQ(AsMap(b[0]), (M{{"news.example.com", 2}, {"(direct)", 1}, {"(unknown)", 1}}));
  EXPECT_EQ(AsMap(b[1]), (M{{"DE", 2}, {"FR", 1}, {"ZZ", 1}}));
  EXPECT_EQ(AsMap(b[2]), (M{{"desktop", 2}, {"mobile", 2}}));
  EXPECT_EQ(AsMap(b[3]), (M{{"Firefox", 2}, {"Mobile Safari", 2}}));
  EXPECT_EQ(AsMap(b[4]), (M{{"Linux", 2}, {"iOS", 2}}));
  EXPECT_EQ(AsMap(b[5]), (M{{"Berlin, DE", 2}, {"Paris, FR", 1}, {"(unknown)", 1}}));
}

TEST_F(AggregatorTest, BotsAndHeadRequestsCountOnlyAsBotClicks) {
  aggregator_.Add(Event("abc", kT0, kBerlin, kBot, "https://slack.com/"));
  core::ClickEvent head = Event("abc", kT0 + 1, kParis, kDesktop);
  head.head = true;
  aggregator_.Add(head);
  aggregator_.Add(Event("abc", kT0 + 2, kParis, kPhone));
  const auto deltas = aggregator_.Take();
  ASSERT_EQ(deltas.size(), 1u);
  const core::ClickDelta& d = deltas[0];
  EXPECT_EQ(d.clicks, 1);
  EXPECT_EQ(d.bot_clicks, 2);
  EXPECT_EQ(d.last_clicked_at, kT0 + 2) << "a bot is not the last click";
  EXPECT_EQ(d.visitors.size(), 1u) << "bots are not visitors";
  for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
    std::int64_t sum = 0;
    for (const auto& v : d.breakdowns[i]) sum += v.clicks;
    EXPECT_EQ(sum, 1) << core::DimensionName(static_cast<Dimension>(i));
  }
  ASSERT_EQ(d.minutes.size(), 1u);
  EXPECT_EQ(d.minutes[0], (core::BucketCount{kT0, 1, 2}));
}

TEST_F(AggregatorTest, OneDeltaPerCodeAndDayWithMinuteBuckets) {
  const core::Micros midnight = core::StartOf(core::DateOf(kT0)) + 24 * 60 * kMinute;
  aggregator_.Add(Event("abc", kT0 + 5 * core::kMicrosPerSecond, kBerlin));
  aggregator_.Add(Event("abc", kT0 + 59 * core::kMicrosPerSecond, kBerlin));
  aggregator_.Add(Event("abc", kT0 + kMinute, kBerlin));
  aggregator_.Add(Event("xyz", kT0, kBerlin));
  aggregator_.Add(Event("abc", midnight + 1, kBerlin));
  EXPECT_EQ(aggregator_.keys(), 3u);
  EXPECT_EQ(aggregator_.events(), 5);
  const auto deltas = aggregator_.Take();
  ASSERT_EQ(deltas.size(), 3u);
  const core::ClickDelta* today = Find(deltas, "abc", core::DateOf(kT0));
  const core::ClickDelta* tomorrow = Find(deltas, "abc", core::DateOf(midnight));
  const core::ClickDelta* other = Find(deltas, "xyz", core::DateOf(kT0));
  ASSERT_TRUE(today && tomorrow && other);
  EXPECT_EQ(today->clicks, 3);
  auto minutes = today->minutes;
  std::sort(minutes.begin(), minutes.end(),
            [](const auto& a, const auto& b) { return a.start < b.start; });
  EXPECT_EQ(minutes, (std::vector<core::BucketCount>{{kT0, 2, 0}, {kT0 + kMinute, 1, 0}}));
  EXPECT_EQ(tomorrow->minutes, (std::vector<core::BucketCount>{{midnight, 1, 0}}));
  EXPECT_NE(today->visitors, tomorrow->visitors) << "the visitor id changes with the day";
  EXPECT_EQ(today->visitors, other->visitors) << "one visitor on every link of a day";
}

TEST_F(AggregatorTest, TakeEmptiesTheWindow) {
  aggregator_.Add(Event("abc", kT0, kBerlin));
  EXPECT_EQ(aggregator_.Take().size(), 1u);
  EXPECT_EQ(aggregator_.keys(), 0u);
  EXPECT_EQ(aggregator_.events(), 0);
  EXPECT_TRUE(aggregator_.Take().empty());
  aggregator_.Add(Event("abc", kT0, kBerlin));
  const auto again = aggregator_.Take();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].clicks, 1) << "nothing carried over from the previous window";
}

TEST_F(AggregatorTest, ClicksBeforeTheEpochLandInTheRightMinute) {
  const core::Micros before = -90 * core::kMicrosPerSecond;  // 1969-12-31T23:58:30Z
  aggregator_.Add(Event("abc", before, kBerlin));
  const auto deltas = aggregator_.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].minutes, (std::vector<core::BucketCount>{{-2 * kMinute, 1, 0}}));
}

}  // namespace
}  // namespace kurz::analytics
