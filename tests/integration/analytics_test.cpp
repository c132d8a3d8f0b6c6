// Click recording and GET /v1/urls/{code}/stats (API.md "Analytics").

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

class AnalyticsTest : public KurzTest {
 protected:
  std::string NewCode() { return CreateLink({{"url", UniqueUrl()}})["code"]; }
  // Redirects `times` times, as a desktop browser unless `headers` say otherwise.
  void Click(const std::string& code, int times, const HeaderList& headers = {}) {
    const HeaderList& sent = headers.empty() ? kBrowser : headers;
    for (int i = 0; i < times; ++i) Expect(Visit("/" + code, sent), 301, "redirect");
  }
  const HeaderList kBrowser = {
      {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}};
};

std::int64_t SumDaily(const json& stats) {
  std::int64_t sum = 0;
  for (const json& day : stats["daily"]) sum += day.value("clicks", std::int64_t{0});
  return sum;
}

TEST_F(AnalyticsTest, StatsOfAFreshLink) {
  const std::string code = NewCode();
  Reply reply = Admin().Get("/v1/urls/" + code + "/stats");
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_TRUE(reply.Header("content-type").starts_with("application/json")) << reply.Describe();
  json stats = reply.Json();
  EXPECT_EQ(stats["code"], code);
  EXPECT_EQ(stats["total_clicks"], 0);
  EXPECT_EQ(stats["bot_clicks"], 0);
  EXPECT_EQ(stats["unique_visitors"], 0);
  for (const char* list : {"daily", "referrers", "countries", "devices", "browsers", "os"}) {
    EXPECT_TRUE(stats[list].is_array()) << list << " in " << stats.dump();
  }
  EXPECT_EQ(SumDaily(stats), 0);
}

TEST_F(AnalyticsTest, DefaultRangeIsTheLast30Days) {
  json stats = Admin().Get("/v1/urls/" + NewCode() + "/stats").Json();
  EXPECT_EQ(stats["to"], UtcDate(0)) << stats.dump();
  // "The last 30 days": either today and the 29 before it, or 30 days back from today.
  EXPECT_TRUE(stats["from"] == UtcDate(-29) || stats["from"] == UtcDate(-30)) << stats.dump();
}

TEST_F(AnalyticsTest, EveryRedirectIsCountedExactlyOnce) {
  const std::string code = NewCode();
  Click(code, 7);
  json stats = WaitForClicks(Admin(), code, 7);
  EXPECT_EQ(stats["total_clicks"], 7) << stats.dump();
  EXPECT_EQ(stats["bot_clicks"], 0) << stats.dump();
  // Same IP and user agent every time: one visitor.
  EXPECT_EQ(stats["unique_visitors"], 1) << stats.dump();
  EXPECT_EQ(SumDaily(stats), 7) << stats.dump();
  bool today = false;
  for (const json& day : stats["daily"]) {
    if (day["date"] == UtcDate(0)) {
      today = true;
      EXPECT_EQ(day["clicks"], 7) << stats.dump();
      EXPECT_EQ(day["unique_visitors"], 1) << stats.dump();
    }
  }
  EXPECT_TRUE(today) << "no daily entry for today: " << stats.dump();

  // Nothing more trickles in later.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  json later = Admin().Get("/v1/urls/" + code + "/stats").Json();
  EXPECT_EQ(later["total_clicks"], 7) << later.dump();
}

TEST_F(AnalyticsTest, HeadAndQueryStringRedirectsCountToo) {
  const std::string code = NewCode();
  Expect(Call(port(), "HEAD", "/" + code, kBrowser), 301, "HEAD");
  Expect(Visit("/" + code + "?utm_source=x", kBrowser), 301, "GET with query");
  json stats = WaitForClicks(Admin(), code, 2);
  EXPECT_EQ(stats["total_clicks"], 2) << stats.dump();
}

TEST_F(AnalyticsTest, ClicksOfOtherLinksAndFailedLookupsDoNotCount) {
  const std::string code = NewCode();
  const std::string other = NewCode();
  Click(other, 3);
  Expect(Visit("/NoSuch99", kBrowser), 404, "unknown code");
  Click(code, 2);
  json stats = WaitForClicks(Admin(), code, 2);
  WaitForClicks(Admin(), other, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stats = Admin().Get("/v1/urls/" + code + "/stats").Json();
  EXPECT_EQ(stats["total_clicks"], 2) << stats.dump();
}

// Bot detection arrives with the click analytics issue (uap-core); until then bot_clicks is 0.
TEST_F(AnalyticsTest, DISABLED_BotClicksAreCountedSeparately) {
  const std::string code = NewCode();
  Click(code, 3);
  Click(
      code, 2,
      {{"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  json stats;
  do {
    stats = Admin().Get("/v1/urls/" + code + "/stats").Json();
    if (stats["total_clicks"] == 3 && stats["bot_clicks"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(stats["total_clicks"], 3) << stats.dump();
  EXPECT_EQ(stats["bot_clicks"], 2) << stats.dump();
}

TEST_F(AnalyticsTest, UniqueVisitorsFromOneAddress) {
  const std::string code = NewCode();
  // All from 127.0.0.1 with two browsers: whether the user agent is part of a visitor's identity
  // is the server's choice, so one or two visitors.
  Click(code, 2);
  Click(code, 2,
        {{"User-Agent",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36"}});
  json stats = WaitForClicks(Admin(), code, 4);
  EXPECT_EQ(stats["total_clicks"], 4) << stats.dump();
  EXPECT_GE(stats["unique_visitors"].get<std::int64_t>(), 1) << stats.dump();
  EXPECT_LE(stats["unique_visitors"].get<std::int64_t>(), 2) << stats.dump();
}

TEST_F(AnalyticsTest, ClickCountInTheLinkObjectFollows) {
  const std::string code = NewCode();
  Click(code, 4);
  WaitForClicks(Admin(), code, 4);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  json link;
  do {
    link = Admin().Get("/v1/urls/" + code).Json();
    if (link["click_count"] == 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(link["click_count"], 4) << link.dump();
}

TEST_F(AnalyticsTest, ExplicitRange) {
  const std::string code = NewCode();
  Click(code, 2);
  WaitForClicks(Admin(), code, 2);
  const std::string today = UtcDate(0);
  Reply reply = Admin().Get("/v1/urls/" + code + "/stats?from=" + today + "&to=" + today);
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  json stats = reply.Json();
  EXPECT_EQ(stats["from"], today);
  EXPECT_EQ(stats["to"], today);
  EXPECT_EQ(stats["total_clicks"], 2) << stats.dump();

  // A range in the past has no clicks.
  Reply past = Admin().Get("/v1/urls/" + code + "/stats?from=2020-01-01&to=2020-01-31");
  ASSERT_EQ(past.status, 200) << past.Describe();
  EXPECT_EQ(past.Json()["total_clicks"], 0) << past.Describe();
  EXPECT_EQ(past.Json()["from"], "2020-01-01");
  EXPECT_EQ(past.Json()["to"], "2020-01-31");

  // 366 days is still allowed.
  Reply year = Admin().Get("/v1/urls/" + code + "/stats?from=" + UtcDate(-365) + "&to=" + today);
  EXPECT_EQ(year.status, 200) << year.Describe();
}

TEST_F(AnalyticsTest, BadRangeIs400) {
  const std::string code = NewCode();
  const std::string base = "/v1/urls/" + code + "/stats?";
  for (const std::string& query :
       {std::string("from=2026-13-01&to=2026-12-31"), std::string("from=2026-02-30"),
        std::string("from=yesterday"), std::string("to=2026/01/01"), std::string("from=2026-1-1"),
        std::string("from=2026-03-02&to=2026-03-01"), std::string("from=2024-01-01&to=2025-06-30"),
        "from=" + UtcDate(-400) + "&to=" + UtcDate(0)}) {
    Reply reply = Admin().Get(base + query);
    EXPECT_EQ(reply.status, 400) << query << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << query << ": " << reply.Describe();
  }
}

TEST_F(AnalyticsTest, StatsOfAnUnknownLinkOrWithoutAKey) {
  Reply unknown = Admin().Get("/v1/urls/NoSuch12/stats");
  EXPECT_EQ(unknown.status, 404) << unknown.Describe();
  EXPECT_EQ(unknown.ErrorCode(), "not_found") << unknown.Describe();
  Reply anonymous = Anonymous().Get("/v1/urls/NoSuch12/stats");
  EXPECT_EQ(anonymous.status, 401) << anonymous.Describe();
}

}  // namespace
}  // namespace kurz::testing
