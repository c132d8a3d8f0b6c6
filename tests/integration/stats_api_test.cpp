// The HTTP side of click analytics: GET /v1/urls/{code}/stats (?top, bot_clicks, breakdowns) and
// GET /v1/urls/{code}/stats/timeseries (docs/api.md). Bot, geo and breakdown numbers are
// analytics_test.cpp's business; these tests check parameters, shapes, zero-filling and access.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t Floor(std::int64_t t, std::int64_t step) { return t - ((t % step) + step) % step; }

class StatsApiTest : public KurzTest {
 protected:
  std::string NewCode() { return CreateLink({{"url", UniqueUrl()}})["code"]; }

  static std::string StatsPath(const std::string& code, const std::string& query = "") {
    return "/v1/urls/" + code + "/stats" + (query.empty() ? "" : "?" + query);
  }
  static std::string SeriesPath(const std::string& code, const std::string& query = "") {
    return "/v1/urls/" + code + "/stats/timeseries" + (query.empty() ? "" : "?" + query);
  }

  // GET .../timeseries?<query> expecting 200; the body.
  json Series(const std::string& code, const std::string& query) {
    Reply reply = Admin().Get(SeriesPath(code, query));
    Expect(reply, 200, "GET " + SeriesPath(code, query));
    return reply.Json();
  }

  // A 400 invalid_argument whose message names `about`.
  static void ExpectInvalid(const Reply& reply, const std::string& query,
                            const std::string& about) {
    EXPECT_EQ(reply.status, 400) << query << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << query << ": " << reply.Describe();
    EXPECT_TRUE(reply.Header("content-type").starts_with("application/json")) << reply.Describe();
    if (reply.status == 400) {
      const std::string message = reply.Json()["error"]["message"].get<std::string>();
      EXPECT_NE(message.find(about), std::string::npos)
          << query << ": the message should mention " << about << ": " << message;
    }
  }

  // Checks the shape of a series body: `points` buckets of `step` seconds from `from`, each
  // {start, clicks, bot_clicks}, consecutive, and `to` the end of the last. Returns `from` in
  // seconds (nullopt after a failure).
  static std::optional<std::int64_t> CheckShape(const json& body, std::string_view granularity,
                                                std::int64_t step, std::size_t points) {
    EXPECT_EQ(body["granularity"], granularity) << body.dump();
    if (!body["from"].is_string() || !body["to"].is_string() || !body["points"].is_array()) {
      ADD_FAILURE() << "not a series: " << body.dump();
      return std::nullopt;
    }
    const auto from = ParseRfc3339(body["from"].get<std::string>());
    const auto to = ParseRfc3339(body["to"].get<std::string>());
    if (!from || !to) {
      ADD_FAILURE() << "from/to are not RFC 3339 UTC: " << body.dump();
      return std::nullopt;
    }
    EXPECT_EQ(*from % step, 0) << "from is not on a bucket boundary: " << body["from"];
    EXPECT_EQ(*to - *from, static_cast<std::int64_t>(points) * step) << body["from"] << body["to"];
    const json& list = body["points"];
    EXPECT_EQ(list.size(), points)
        << granularity << " from " << body["from"] << " to " << body["to"];
    std::int64_t expected = *from;
    for (const json& point : list) {
      const auto start = ParseRfc3339(point.value("start", ""));
      if (!start || *start != expected) {
        ADD_FAILURE() << "point " << point.dump() << " should start at bucket "
                      << (expected - *from) / step << " of " << body["from"];
        return std::nullopt;
      }
      EXPECT_TRUE(point["clicks"].is_number_integer()) << point.dump();
      EXPECT_TRUE(point["bot_clicks"].is_number_integer()) << point.dump();
      expected += step;
    }
    return from;
  }

  static void ExpectAllZero(const json& body) {
    for (const json& point : body["points"]) {
      EXPECT_EQ(point["clicks"], 0) << point.dump();
      EXPECT_EQ(point["bot_clicks"], 0) << point.dump();
    }
  }

  // Redirects `times` times as a desktop browser.
  void Click(const std::string& code, int times) {
    for (int i = 0; i < times; ++i) Expect(Visit("/" + code, kBrowser), 301, "redirect");
  }
  const HeaderList kBrowser = {
      {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}};
};

// ---- /stats ------------------------------------------------------------------------------------

TEST_F(StatsApiTest, StatsHasBotClicksAndEveryBreakdown) {
  const std::string code = NewCode();
  Click(code, 2);
  json stats = WaitForClicks(Admin(), code, 2);
  EXPECT_TRUE(stats["bot_clicks"].is_number_integer()) << stats.dump();
  for (const char* list : {"referrers", "countries", "devices", "browsers", "os", "cities"}) {
    ASSERT_TRUE(stats[list].is_array()) << list << " in " << stats.dump();
    for (const json& entry : stats[list]) {
      EXPECT_TRUE(entry["value"].is_string()) << list << ": " << entry.dump();
      EXPECT_TRUE(entry["clicks"].is_number_integer()) << list << ": " << entry.dump();
    }
  }
  ASSERT_FALSE(stats["daily"].empty()) << stats.dump();
  for (const json& day : stats["daily"]) {
    EXPECT_TRUE(day["bot_clicks"].is_number_integer()) << day.dump();
  }
}

TEST_F(StatsApiTest, TopAcceptsOneToThousand) {
  const std::string code = NewCode();
  for (const std::string top : {"1", "10", "1000"}) {
    Reply reply = Admin().Get(StatsPath(code, "top=" + top));
    ASSERT_EQ(reply.status, 200) << "top=" << top << ": " << reply.Describe();
    json stats = reply.Json();
    for (const char* list : {"referrers", "countries", "devices", "browsers", "os", "cities"}) {
      ASSERT_TRUE(stats[list].is_array()) << list << " in " << stats.dump();
      EXPECT_LE(stats[list].size(), std::stoul(top)) << list << " with top=" << top;
    }
  }
  // With a range too.
  Reply ranged =
      Admin().Get(StatsPath(code, "from=" + UtcDate(-3) + "&to=" + UtcDate(0) + "&top=5"));
  EXPECT_EQ(ranged.status, 200) << ranged.Describe();
}

TEST_F(StatsApiTest, BadTopIs400) {
  const std::string code = NewCode();
  for (const std::string query :
       {"top=0", "top=abc", "top=1e3", "top=1001", "top=-1", "top=", "top", "top=%2B5", "top=%205",
        "top=1.5", "top=10x", "top=99999999999999999999"}) {
    ExpectInvalid(Admin().Get(StatsPath(code, query)), query, "top");
  }
}

TEST_F(StatsApiTest, StatsRangeIsStillChecked) {
  const std::string code = NewCode();
  ExpectInvalid(Admin().Get(StatsPath(code, "from=2026-03-02&to=2026-03-01&top=5")), "from > to",
                "from");
  ExpectInvalid(Admin().Get(StatsPath(code, "from=2026-02-30")), "from=2026-02-30", "from");
}

// ---- /stats/timeseries: shapes -----------------------------------------------------------------

TEST_F(StatsApiTest, DefaultRangesEndWithTheCurrentBucket) {
  const std::string code = NewCode();
  struct Case {
    std::string query;
    std::string granularity;
    std::int64_t step;
    std::size_t points;
  };
  for (const Case& c :
       {Case{"", "hour", kHour, 48}, Case{"granularity=minute", "minute", kMinute, 60},
        Case{"granularity=hour", "hour", kHour, 48}, Case{"granularity=day", "day", kDay, 30}}) {
    const std::int64_t before = NowSeconds();
    json body = Series(code, c.query);
    const std::int64_t after = NowSeconds();
    EXPECT_EQ(body["code"], code);
    auto from = CheckShape(body, c.granularity, c.step, c.points);
    ASSERT_TRUE(from) << c.query;
    // The last bucket is the current one.
    const std::int64_t last = *from + static_cast<std::int64_t>(c.points - 1) * c.step;
    EXPECT_TRUE(last == Floor(before, c.step) || last == Floor(after, c.step))
        << c.query << ": last bucket " << body["points"].back() << ", now " << before;
    ExpectAllZero(body);
  }
}

TEST_F(StatsApiTest, ExplicitRangesAreZeroFilled) {
  const std::string code = NewCode();
  // Dates are midnight UTC; `to` is exclusive.
  json hours = Series(code, "granularity=hour&from=2026-01-01&to=2026-01-02");
  EXPECT_EQ(hours["from"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(hours["to"], "2026-01-02T00:00:00Z");
  CheckShape(hours, "hour", kHour, 24);
  ExpectAllZero(hours);
  EXPECT_EQ(hours["points"][0]["start"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(hours["points"][23]["start"], "2026-01-01T23:00:00Z");

  json minutes = Series(code, "granularity=minute&from=2026-01-01&to=2026-01-02");
  CheckShape(minutes, "minute", kMinute, 1440);
  ExpectAllZero(minutes);

  json days = Series(code, "granularity=day&from=2026-01-01&to=2026-02-01");
  CheckShape(days, "day", kDay, 31);
  EXPECT_EQ(days["points"][30]["start"], "2026-01-31T00:00:00Z");
  ExpectAllZero(days);

  // Date-times, with offsets too ('+' sent as %2B).
  json two = Series(code, "from=2026-03-01T12:00:00%2B02:00&to=2026-03-01T12:00:00Z");
  EXPECT_EQ(two["from"], "2026-03-01T10:00:00Z");
  EXPECT_EQ(two["to"], "2026-03-01T12:00:00Z");
  CheckShape(two, "hour", kHour, 2);

  // Only `to`: the default length before it.
  json before_to = Series(code, "granularity=day&to=2026-03-01");
  EXPECT_EQ(before_to["from"], "2026-01-30T00:00:00Z");
  EXPECT_EQ(before_to["to"], "2026-03-01T00:00:00Z");
  CheckShape(before_to, "day", kDay, 30);
}

TEST_F(StatsApiTest, BoundsOffTheGridCoverEveryOverlappingBucket) {
  const std::string code = NewCode();
  json one = Series(code, "granularity=hour&from=2026-01-01T10:15:00Z&to=2026-01-01T10:45:00Z");
  EXPECT_EQ(one["from"], "2026-01-01T10:00:00Z");
  EXPECT_EQ(one["to"], "2026-01-01T11:00:00Z");
  CheckShape(one, "hour", kHour, 1);

  json minutes =
      Series(code, "granularity=minute&from=2026-01-01T10:15:30.5Z&to=2026-01-01T10:17:00.001Z");
  EXPECT_EQ(minutes["from"], "2026-01-01T10:15:00Z");
  EXPECT_EQ(minutes["to"], "2026-01-01T10:18:00Z");
  CheckShape(minutes, "minute", kMinute, 3);

  json days = Series(code, "granularity=day&from=2026-01-01T23:59:59Z&to=2026-01-02T00:00:01Z");
  EXPECT_EQ(days["from"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(days["to"], "2026-01-03T00:00:00Z");
  CheckShape(days, "day", kDay, 2);
}

TEST_F(StatsApiTest, LongestRangesPerGranularity) {
  const std::string code = NewCode();
  CheckShape(Series(code, "granularity=minute&from=2026-01-01&to=2026-01-03"), "minute", kMinute,
             2880);
  CheckShape(Series(code, "granularity=hour&from=2026-01-01&to=2026-02-01"), "hour", kHour, 744);
  CheckShape(Series(code, "granularity=day&from=2024-01-01&to=2025-01-01"), "day", kDay, 366);
}

TEST_F(StatsApiTest, HeadWorksLikeGet) {
  const std::string code = NewCode();
  const HeaderList auth = {{"Authorization", "Bearer " + std::string(kBootstrapKey)}};
  Reply head = Call(port(), "HEAD", SeriesPath(code, "granularity=minute"), auth);
  EXPECT_EQ(head.status, 200) << head.Describe();
  EXPECT_TRUE(head.body.empty()) << head.Describe();
  EXPECT_TRUE(head.Header("content-type").starts_with("application/json")) << head.Describe();

  Reply post = Admin().Post(SeriesPath(code), json::object());
  EXPECT_EQ(post.status, 405) << post.Describe();
  EXPECT_EQ(post.Header("allow"), "GET, HEAD") << post.Describe();
}

// ---- /stats/timeseries: validation -------------------------------------------------------------

TEST_F(StatsApiTest, BadGranularityIs400) {
  const std::string code = NewCode();
  for (const std::string query : {"granularity=week", "granularity=HOUR", "granularity=",
                                  "granularity=hours", "granularity=%20hour", "granularity"}) {
    ExpectInvalid(Admin().Get(SeriesPath(code, query)), query, "granularity");
  }
}

TEST_F(StatsApiTest, BadBoundsAre400) {
  const std::string code = NewCode();
  for (const std::string query :
       {"from=yesterday", "from=2026-02-30", "from=2026-1-1", "from=2026-01-01T25:00:00Z",
        "from=2026-01-01T10:00:00", "from=1767225600", "from="}) {
    ExpectInvalid(Admin().Get(SeriesPath(code, query)), query, "from");
  }
  for (const std::string query : {"to=tomorrow", "to=2026/01/01", "to=2026-13-01", "to="}) {
    ExpectInvalid(Admin().Get(SeriesPath(code, query)), query, "to");
  }
}

TEST_F(StatsApiTest, BoundsBeyondTheYear9999Are400) {
  const std::string code = NewCode();
  for (const std::string query :
       {"granularity=day&from=9999-12-01&to=9999-12-31T12:00:00Z",
        "granularity=day&from=0000-01-01T00:00:00%2B01:00&to=0000-01-02"}) {
    ExpectInvalid(Admin().Get(SeriesPath(code, query)), query, "9999");
  }
  json last = Series(code, "granularity=day&from=9999-12-01&to=9999-12-31");
  EXPECT_EQ(last["to"], "9999-12-31T00:00:00Z") << last.dump();
  json first = Series(code, "granularity=day&from=0000-01-01&to=0000-01-02");
  EXPECT_EQ(first["from"], "0000-01-01T00:00:00Z") << first.dump();
}

TEST_F(StatsApiTest, FromMustBeBeforeTo) {
  const std::string code = NewCode();
  for (const std::string& query : std::vector<std::string>{
           "from=2026-01-02&to=2026-01-01", "from=2026-01-01&to=2026-01-01",
           "granularity=minute&from=2026-01-01T10:00:00Z&to=2026-01-01T10:00:00Z",
           "granularity=day&from=2026-01-01T10:00:00Z&to=2026-01-01T09:00:00Z",
           // Only `from`, after the end of the current bucket.
           "granularity=day&from=" + UtcDate(2)}) {
    ExpectInvalid(Admin().Get(SeriesPath(code, query)), query, "before");
  }
}

TEST_F(StatsApiTest, RangesBeyondTheLimitAre400) {
  const std::string code = NewCode();
  for (const std::string& query : std::vector<std::string>{
           "granularity=minute&from=2026-01-01&to=2026-01-03T00:01:00Z",
           "granularity=minute&from=2026-01-01&to=2026-01-04",
           "granularity=hour&from=2026-01-01&to=2026-02-01T01:00:00Z",
           "granularity=hour&from=2026-01-01&to=2026-03-01", "from=2026-01-01&to=2026-02-02",
           "granularity=day&from=2024-01-01&to=2025-01-02",
           "granularity=day&from=2000-01-01&to=2026-01-01",
           // Only `from`, long ago: the range up to now is too long.
           "granularity=minute&from=" + UtcDate(-3)}) {
    ExpectInvalid(Admin().Get(SeriesPath(code, query)), query, "at most");
  }
}

// ---- /stats/timeseries: counts -----------------------------------------------------------------

TEST_F(StatsApiTest, RedirectsLandInTheCurrentBucket) {
  const std::string code = NewCode();
  constexpr int kClicks = 5;
  const std::int64_t before = NowSeconds();
  Click(code, kClicks);
  const std::int64_t after = NowSeconds();
  WaitForClicks(Admin(), code, kClicks);

  struct Case {
    std::string granularity;
    std::int64_t step;
  };
  for (const Case& c : {Case{"minute", kMinute}, Case{"hour", kHour}, Case{"day", kDay}}) {
    // The clicks lie in the bucket(s) of [before, after]: one, unless a boundary passed.
    const std::int64_t first = Floor(before, c.step);
    const std::int64_t last = Floor(after, c.step);
    std::int64_t in_window = 0;
    std::int64_t total = 0;
    json body;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    do {
      body = Series(code, "granularity=" + c.granularity);
      in_window = total = 0;
      for (const json& point : body["points"]) {
        const auto start = ParseRfc3339(point.value("start", ""));
        const std::int64_t clicks = point.value("clicks", std::int64_t{0});
        total += clicks;
        if (start && *start >= first && *start <= last) in_window += clicks;
      }
      if (in_window >= kClicks) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    EXPECT_EQ(in_window, kClicks) << c.granularity << ": " << body.dump();
    EXPECT_EQ(total, kClicks) << c.granularity << ": " << body.dump();
    if (first == last) {
      // The usual case: exactly one bucket holds them all.
      for (const json& point : body["points"]) {
        if (ParseRfc3339(point.value("start", "")) == first) {
          EXPECT_EQ(point["clicks"], kClicks) << c.granularity << ": " << body.dump();
        }
      }
    }
  }
}

// ---- /stats/timeseries: access -----------------------------------------------------------------

TEST_F(StatsApiTest, UnknownCodeIs404AndAKeyIsNeeded) {
  Reply unknown = Admin().Get(SeriesPath("NoSuch12"));
  EXPECT_EQ(unknown.status, 404) << unknown.Describe();
  EXPECT_EQ(unknown.ErrorCode(), "not_found") << unknown.Describe();

  const std::string code = NewCode();
  Reply anonymous = Anonymous().Get(SeriesPath(code));
  EXPECT_EQ(anonymous.status, 401) << anonymous.Describe();
  EXPECT_EQ(anonymous.ErrorCode(), "unauthorized") << anonymous.Describe();
  Reply bad_key = As("kz_not_a_real_key_at_all_0000000000").Get(SeriesPath(code));
  EXPECT_EQ(bad_key.status, 401) << bad_key.Describe();
}

TEST_F(StatsApiTest, AnotherUsersLinkIs404LikeStats) {
  const std::string code = NewCode();  // the admin's
  NewUser bob = CreateUser("bob-stats@example.com");
  for (const std::string& path : {StatsPath(code), SeriesPath(code)}) {
    Reply reply = As(bob.api_key).Get(path);
    EXPECT_EQ(reply.status, 404) << path << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "not_found") << path << ": " << reply.Describe();
  }
  // Bob sees his own.
  const std::string own = CreateLink(As(bob.api_key), {{"url", UniqueUrl("bob")}})["code"];
  Reply mine = As(bob.api_key).Get(SeriesPath(own));
  EXPECT_EQ(mine.status, 200) << mine.Describe();
}

TEST_F(StatsApiTest, DeletedLinkAnswersLikeStats) {
  const std::string code = NewCode();
  Expect(Admin().Delete("/v1/urls/" + code), 204, "DELETE");
  Reply stats = Admin().Get(StatsPath(code));
  Reply series = Admin().Get(SeriesPath(code));
  EXPECT_EQ(series.status, stats.status) << series.Describe();
  EXPECT_EQ(series.ErrorCode(), stats.ErrorCode()) << series.Describe();
}

TEST_F(StatsApiTest, ReadPermissionIsNeeded) {
  const std::string code = NewCode();
  Reply created =
      Admin().Post("/v1/api-keys", {{"name", "create-only"}, {"permissions", {"create"}}});
  Expect(created, 201, "POST /v1/api-keys");
  const std::string key = created.Json()["key"];
  for (const std::string& path : {StatsPath(code), SeriesPath(code)}) {
    Reply reply = As(key).Get(path);
    EXPECT_EQ(reply.status, 403) << path << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "forbidden") << path << ": " << reply.Describe();
  }
}

}  // namespace
}  // namespace kurz::testing
