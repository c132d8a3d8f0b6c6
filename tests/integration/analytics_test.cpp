// Click recording and GET /v1/urls/{code}/stats (API.md "Analytics").

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
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

// Polls the link's stats until it shows `clicks` human and `bots` bot clicks (or 10 s pass);
// returns the last body.
json WaitForStats(const Api& api, const std::string& code, std::int64_t clicks, std::int64_t bots,
                  const std::string& query = "") {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  json stats;
  do {
    Reply reply = api.Get("/v1/urls/" + code + "/stats" + query);
    if (reply.status != 200) throw std::runtime_error("stats: " + reply.Describe());
    stats = reply.Json();
    if (stats["total_clicks"] == clicks && stats["bot_clicks"] == bots) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return stats;
}

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

TEST_F(AnalyticsTest, QueryStringRedirectsCountAndHeadRequestsAreBots) {
  const std::string code = NewCode();
  // No browser follows a link with HEAD: link checkers and preview fetchers do.
  Expect(Call(port(), "HEAD", "/" + code, kBrowser), 301, "HEAD");
  Expect(Visit("/" + code + "?utm_source=x", kBrowser), 301, "GET with query");
  json stats = WaitForStats(Admin(), code, 1, 1);
  EXPECT_EQ(stats["total_clicks"], 1) << stats.dump();
  EXPECT_EQ(stats["bot_clicks"], 1) << stats.dump();
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

TEST_F(AnalyticsTest, BotClicksAreCountedSeparately) {
  const std::string code = NewCode();
  Click(code, 3);
  Click(
      code, 2,
      {{"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}});
  Click(code, 1, {{"User-Agent", "facebookexternalhit/1.1"}});
  json stats = WaitForStats(Admin(), code, 3, 3);
  EXPECT_EQ(stats["total_clicks"], 3) << stats.dump();
  EXPECT_EQ(stats["bot_clicks"], 3) << stats.dump();
  EXPECT_EQ(stats["unique_visitors"], 1) << stats.dump();
  ASSERT_EQ(stats["daily"].size(), 1u) << stats.dump();
  EXPECT_EQ(stats["daily"][0]["clicks"], 3) << stats.dump();
  EXPECT_EQ(stats["daily"][0]["bot_clicks"], 3) << stats.dump();
  EXPECT_EQ(stats["browsers"], json::parse(R"([{"value": "Firefox", "clicks": 3}])"))
      << stats.dump();
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

// Mixed traffic through a load balancer: kurz trusts 127.0.0.1 (where the tests connect from)
// as a proxy, and the clients are the addresses in X-Forwarded-For, located in the test GeoIP
// database (tests/adapters/geoip/make_test_mmdb.pl: 81.2.69.0/24 London GB, 89.160.20.0/24
// Linköping SE, 203.0.113.0/24 JP without a city, 2001:db8::/32 Berlin DE; others unknown).
class MixedTrafficTest : public AnalyticsTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--geoip", std::string(KURZ_TEST_MMDB_DIR) + "/test-city.mmdb", "--trusted-proxies",
            "127.0.0.1/32, ::1"};
  }
  void From(const std::string& code, int times, const std::string& forwarded_for,
            const std::string& user_agent, const std::string& referer = "") {
    HeaderList headers = {{"User-Agent", user_agent}, {"X-Forwarded-For", forwarded_for}};
    if (!referer.empty()) headers.emplace_back("Referer", referer);
    Click(code, times, headers);
  }
};

constexpr const char* kFirefoxLinux =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
constexpr const char* kChromeWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36";
constexpr const char* kEdgeWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0";
constexpr const char* kIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
constexpr const char* kAndroid =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36";
constexpr const char* kIpad =
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1";

json Counts(std::initializer_list<std::pair<const char*, int>> counts) {
  json out = json::array();
  for (const auto& [value, clicks] : counts) out.push_back({{"value", value}, {"clicks", clicks}});
  return out;
}

TEST_F(MixedTrafficTest, BrowsersPhonesBotsReferrersAndProxiedClientsAddUpExactly) {
  const std::string code = NewCode();
  // Humans: 10 clicks by 6 visitors.
  From(code, 3, "81.2.69.10", kFirefoxLinux, "https://News.Example.com/a?b=1#c");
  From(code, 1, "203.0.113.5, 81.2.69.20", kChromeWindows, "https://t.co/x");  // right-most
  From(code, 2, "89.160.20.112", kIphone);
  From(code, 1, "2001:db8::7", kAndroid, "android-app://com.google.android.gm/");
  From(code, 1, "203.0.113.9", kIpad, "https://news.example.com/");
  From(code, 1, "81.2.69.99, 192.0.2.1", kEdgeWindows, "https://www.google.com/search?q=kurz");
  From(code, 1, "81.2.69.10, 127.0.0.1", kFirefoxLinux);  // a trusted hop is skipped
  // Bots and previews: 10 clicks, none of them in any other number.
  From(code, 2, "89.160.20.200",
       "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
  for (const char* preview :
       {"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0", "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "TelegramBot (like TwitterBot)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"}) {
    From(code, 1, "89.160.20.201", preview, "https://slack.com/");
  }
  Expect(Call(port(), "HEAD", "/" + code,
              {{"User-Agent", kFirefoxLinux}, {"X-Forwarded-For", "89.160.20.202"}}),
         301, "HEAD");

  json stats = WaitForStats(Admin(), code, 10, 10);
  EXPECT_EQ(stats["total_clicks"], 10) << stats.dump();
  EXPECT_EQ(stats["bot_clicks"], 10) << stats.dump();
  EXPECT_EQ(stats["unique_visitors"], 6) << stats.dump();
  ASSERT_EQ(stats["daily"].size(), 1u) << stats.dump();
  EXPECT_EQ(stats["daily"][0]["date"], UtcDate(0));
  EXPECT_EQ(stats["daily"][0]["clicks"], 10) << stats.dump();
  EXPECT_EQ(stats["daily"][0]["unique_visitors"], 6) << stats.dump();
  EXPECT_EQ(stats["daily"][0]["bot_clicks"], 10) << stats.dump();

  EXPECT_EQ(stats["referrers"], Counts({{"news.example.com", 4},
                                        {"(direct)", 3},
                                        {"com.google.android.gm", 1},
                                        {"t.co", 1},
                                        {"www.google.com", 1}}))
      << stats.dump();
  EXPECT_EQ(stats["countries"], Counts({{"GB", 5}, {"SE", 2}, {"DE", 1}, {"JP", 1}, {"ZZ", 1}}))
      << stats.dump();
  EXPECT_EQ(stats["devices"], Counts({{"desktop", 6}, {"mobile", 3}, {"tablet", 1}}))
      << stats.dump();
  EXPECT_EQ(
      stats["browsers"],
      Counts(
          {{"Firefox", 4}, {"Mobile Safari", 3}, {"Chrome", 1}, {"Chrome Mobile", 1}, {"Edge", 1}}))
      << stats.dump();
  EXPECT_EQ(stats["os"], Counts({{"Linux", 4}, {"iOS", 3}, {"Windows", 2}, {"Android", 1}}))
      << stats.dump();
  EXPECT_EQ(stats["cities"],
            Counts({{"London, GB", 5}, {"(unknown)", 2}, {"Linköping, SE", 2}, {"Berlin, DE", 1}}))
      << stats.dump();

  // ?top=N cuts every breakdown to its N biggest values.
  json top = WaitForStats(Admin(), code, 10, 10, "?top=2");
  EXPECT_EQ(top["referrers"], Counts({{"news.example.com", 4}, {"(direct)", 3}})) << top.dump();
  EXPECT_EQ(top["countries"], Counts({{"GB", 5}, {"SE", 2}})) << top.dump();
  EXPECT_EQ(top["os"], Counts({{"Linux", 4}, {"iOS", 3}})) << top.dump();
  EXPECT_EQ(top["total_clicks"], 10) << "top cuts lists, not totals: " << top.dump();

  // The same clicks per minute: every one of the 20 is in some minute of the last hour.
  Reply series = Admin().Get("/v1/urls/" + code + "/stats/timeseries?granularity=minute");
  ASSERT_EQ(series.status, 200) << series.Describe();
  std::int64_t clicks = 0;
  std::int64_t bots = 0;
  const json points = series.Json()["points"];
  for (const json& point : points) {
    clicks += point["clicks"].get<std::int64_t>();
    bots += point["bot_clicks"].get<std::int64_t>();
  }
  EXPECT_EQ(clicks, 10) << series.body;
  EXPECT_EQ(bots, 10) << series.body;
}

TEST_F(MixedTrafficTest, ANewVisitorEachDayIsCountedOnceAcrossLinks) {
  const std::string first = NewCode();
  const std::string second = NewCode();
  From(first, 2, "81.2.69.10", kFirefoxLinux);
  From(second, 1, "81.2.69.10", kIphone);  // same address: the same visitor, on another link
  From(second, 1, "81.2.69.11", kIphone);
  json a = WaitForStats(Admin(), first, 2, 0);
  json b = WaitForStats(Admin(), second, 2, 0);
  EXPECT_EQ(a["unique_visitors"], 1) << a.dump();
  EXPECT_EQ(b["unique_visitors"], 2) << b.dump();
}

// The same traffic without --trusted-proxies: X-Forwarded-For is anyone's to forge, so kurz
// ignores it and every click comes from 127.0.0.1 (one visitor, in no country).
class UntrustedProxyTest : public MixedTrafficTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--geoip", std::string(KURZ_TEST_MMDB_DIR) + "/test-city.mmdb"};
  }
};

TEST_F(UntrustedProxyTest, ForwardedForIsIgnoredUnlessThePeerIsTrusted) {
  const std::string code = NewCode();
  From(code, 1, "81.2.69.10", kFirefoxLinux);
  From(code, 1, "89.160.20.112", kFirefoxLinux);
  From(code, 1, "2001:db8::7", kFirefoxLinux);
  json stats = WaitForStats(Admin(), code, 3, 0);
  EXPECT_EQ(stats["total_clicks"], 3) << stats.dump();
  EXPECT_EQ(stats["unique_visitors"], 1) << stats.dump();
  EXPECT_EQ(stats["countries"], Counts({{"ZZ", 3}})) << stats.dump();
}

// A visitor's id depends on --ip-salt-secret: two servers with the same secret agree, so the
// secret can be shared by instances that do not share a database.
class FixedSaltTest : public MixedTrafficTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    auto args = MixedTrafficTest::ExtraArgs();
    args.insert(args.end(), {"--ip-salt-secret", "a-long-shared-secret-for-tests"});
    return args;
  }
};

TEST_F(FixedSaltTest, TheSameSecretKeepsAVisitorOneVisitorAcrossARestart) {
  const std::string code = NewCode();
  From(code, 1, "81.2.69.10", kFirefoxLinux);
  WaitForStats(Admin(), code, 1, 0);
  ASSERT_NO_FATAL_FAILURE(Restart());
  From(code, 1, "81.2.69.10", kFirefoxLinux);
  From(code, 1, "81.2.69.12", kFirefoxLinux);
  json stats = WaitForStats(Admin(), code, 3, 0);
  EXPECT_EQ(stats["total_clicks"], 3) << stats.dump();
  EXPECT_EQ(stats["unique_visitors"], 2) << stats.dump();
}

TEST_F(FixedSaltTest, AnotherSecretMakesTheSameAddressAnotherVisitor) {
  // The flag, not the secret stored in the database, keys the visitor ids: after a restart with
  // another --ip-salt-secret the same address on the same day is a visitor not seen before.
  const std::string code = NewCode();
  From(code, 1, "81.2.69.10", kFirefoxLinux);
  WaitForStats(Admin(), code, 1, 0);
  server().Terminate();
  std::vector<std::string> args = server().args();
  auto secret = std::find(args.begin(), args.end(), "--ip-salt-secret");
  ASSERT_NE(secret, args.end());
  *(secret + 1) = "another-long-secret-for-tests";
  server().set_args(std::move(args));
  ASSERT_NO_FATAL_FAILURE(Restart());
  From(code, 1, "81.2.69.10", kFirefoxLinux);
  json stats = WaitForStats(Admin(), code, 2, 0);
  EXPECT_EQ(stats["total_clicks"], 2) << stats.dump();
  EXPECT_EQ(stats["unique_visitors"], 2) << stats.dump();
}

}  // namespace
}  // namespace kurz::testing
