#include "analytics/click_message.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "analytics/aggregator.hpp"
#include "analytics/fakes.hpp"
#include "core/short_code.hpp"

namespace kurz::analytics {
namespace {

// 2026-11-28T10:00:00.123456Z
constexpr core::Micros kAt = 1'795'860'000LL * core::kMicrosPerSecond + 123'456;

ClickMessage Sample() {
  ClickMessage m;
  m.id = "0123456789abcdef0123456789abcdef";
  m.at = kAt;
  m.code = "aZ3kP9q";
  m.visitor = "fedcba9876543210fedcba9876543210";
  m.country = "DE";
  m.city = "Berlin";
  m.user_agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0";
  m.referrer = "https://news.example.org/item?id=1";
  m.accept_language = "de-DE,de;q=0.9";
  m.head = false;
  return m;
}

std::string Encode(const ClickMessage& m) {
  std::string out;
  EncodeClickMessage(m, out);
  return out;
}

void ExpectSame(const ClickMessage& a, const ClickMessage& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.at, b.at);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.visitor, b.visitor);
  EXPECT_EQ(a.country, b.country);
  EXPECT_EQ(a.city, b.city);
  EXPECT_EQ(a.user_agent, b.user_agent);
  EXPECT_EQ(a.referrer, b.referrer);
  EXPECT_EQ(a.accept_language, b.accept_language);
  EXPECT_EQ(a.head, b.head);
}

TEST(ClickMessageTest, RoundTripsEveryField) {
  ClickMessage back;
  ASSERT_TRUE(DecodeClickMessage(Encode(Sample()), back));
  ExpectSame(Sample(), back);
}

TEST(ClickMessageTest, IsOneJsonObjectWithTheDocumentedKeys) {
  const nlohmann::json j = nlohmann::json::parse(Encode(Sample()));
  EXPECT_EQ(j.at("v"), 1);
  EXPECT_EQ(j.at("id"), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(j.at("ts"), kAt);
  EXPECT_EQ(j.at("code"), "aZ3kP9q");
  EXPECT_EQ(j.at("lang"), "de-DE,de;q=0.9");
  EXPECT_EQ(j.at("head"), false);
  EXPECT_EQ(j.size(), 11u);
}

TEST(ClickMessageTest, HeadersWithQuotesControlBytesAndInvalidUtf8StayValidJson) {
  ClickMessage m = Sample();
  m.user_agent = std::string(
      "a\"b\\c\td\x01"
      "e\xff"
      "f\xc3\xa9g",
      14);
  m.referrer = "\xe2\x82";  // a truncated three-byte sequence
  const std::string json = Encode(m);
  ASSERT_FALSE(nlohmann::json::parse(json, nullptr, false).is_discarded()) << json;
  ClickMessage back;
  ASSERT_TRUE(DecodeClickMessage(json, back));
  EXPECT_EQ(back.user_agent,
            "a\"b\\c\td\x01"
            "e\xef\xbf\xbd"
            "f\xc3\xa9g");
  EXPECT_EQ(back.referrer, "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(ClickMessageTest, RefusesWhatIsNotAVersionOneClick) {
  const std::string good = Encode(Sample());
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json j = nlohmann::json::parse(good);
    if (value.is_discarded()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
    return j.dump();
  };
  const nlohmann::json removed(nlohmann::json::value_t::discarded);
  const std::string bad[] = {
      "",
      "not json",
      "[1,2]",
      good.substr(0, good.size() - 1),
      with("v", 2),
      with("v", "1"),
      with("v", removed),
      with("id", "0123"),
      with("id", "0123456789ABCDEF0123456789ABCDEF"),
      with("id", removed),
      with("ts", "2026-11-28"),
      with("ts", 1.5),
      with("ts", removed),
      with("ts", 400'000'000'000'000'000LL),
      with("code", "no spaces"),
      with("code", ""),
      with("code", 7),
      with("visitor", "xyz"),
      with("country", 1),
      with("ua", nlohmann::json::array()),
      with("head", "yes"),
  };
  for (const std::string& text : bad) {
    ClickMessage out;
    auto r = DecodeClickMessage(text, out);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(r.error().detail.find("click message"), std::string::npos);
  }
}

TEST(ClickMessageTest, OptionalFieldsMayBeMissingAndUnknownOnesAreIgnored) {
  ClickMessage back;
  ASSERT_TRUE(
      DecodeClickMessage(R"({"v":1,"id":"0123456789abcdef0123456789abcdef","ts":1,"code":"abc",)"
                         R"("visitor":"fedcba9876543210fedcba9876543210","added_later":{"x":1}})",
                         back));
  EXPECT_EQ(back.country, "ZZ");
  EXPECT_EQ(back.city, "");
  EXPECT_EQ(back.user_agent, "");
  EXPECT_FALSE(back.head);
}

TEST(ClickMessageTest, ReadsAnyValidJsonSpellingOfAMessage) {
  ClickMessage back;
  ASSERT_TRUE(DecodeClickMessage(
      " {\n \"extra\" : [1, -2.5e3, {\"a\": [true, false, null, \"x\\\"y\"]}] ,"
      " \"v\" : 1, \"id\":\"0123456789abcdef0123456789abcdef\", \"ts\": -5,"
      " \"code\":\"a\\u0062c\", \"visitor\":\"fedcba9876543210fedcba9876543210\","
      " \"ua\": \"\\ud83d\\ude00 \\u00e9\\/\\b\\f\\n\\r\\t\", \"city\": null,"
      " \"head\": true } \t",
      back));
  EXPECT_EQ(back.code, "abc");
  EXPECT_EQ(back.at, -5);
  EXPECT_EQ(back.user_agent, "\xf0\x9f\x98\x80 \xc3\xa9/\b\f\n\r\t");
  EXPECT_EQ(back.city, "");
  EXPECT_TRUE(back.head);
}

TEST(ClickMessageTest, RefusesBrokenJsonAndNeverReadsPastTheEnd) {
  const std::string good = Encode(Sample());
  const std::string bad[] = {
      good + "x",
      good + "{}",
      "{\"v\":1,}",
      "{\"v\" 1}",
      "{\"v\":01}",
      "{\"v\":1.}",
      "{\"v\":-}",
      "{\"ua\":\"\\ud800\"}",
      "{\"ua\":\"\\udc00\"}",
      "{\"ua\":\"\\x\"}",
      "{\"ua\":\"tab\there\"}",
      "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]"
      "]"
      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
  };
  for (const std::string& text : bad) {
    ClickMessage out;
    EXPECT_FALSE(DecodeClickMessage(text, out)) << text;
  }
  // Every prefix of a valid message is refused (and read safely: ASan would say otherwise).
  for (std::size_t n = 0; n < good.size(); ++n) {
    ClickMessage out;
    EXPECT_FALSE(DecodeClickMessage(std::string_view(good).substr(0, n), out)) << n;
  }
  // Random single-byte damage never crashes; what decodes still has a valid id and code.
  std::string damaged = good;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (char c : {'\0', '"', '\\', '{', '}', ',', ':', 'x', '\xff'}) {
      damaged[i] = c;
      ClickMessage out;
      if (DecodeClickMessage(damaged, out)) {
        EXPECT_EQ(out.id.size(), 32u);
        EXPECT_TRUE(core::LooksLikeCode(out.code));
      }
    }
    damaged[i] = good[i];
  }
}

// The worker's path (message → Aggregator) counts exactly as the embedded one (event →
// Aggregator): the message carries what the producer computed from the IP.
TEST(ClickMessageTest, AggregatingMessagesEqualsAggregatingTheEvents) {
  fakes::FakeUserAgentParser agents;
  fakes::FakeGeoLocator geo;
  const IpBytes berlin = fakes::MappedIpv4(203, 0, 113, 7);
  geo.Add(berlin, "DE", "Berlin");
  const IpBytes nowhere = fakes::MappedIpv4(192, 0, 2, 1);
  Aggregator embedded(agents, geo, "a secret of sixteen+ chars");
  Aggregator worker(agents, geo, "another secret, unused here");
  VisitorHasher producer("a secret of sixteen+ chars");
  const char* agents_seen[] = {"Mozilla Firefox", "iPhone Safari", "Slackbot 1.0"};
  for (int i = 0; i < 30; ++i) {
    core::ClickEvent e;
    e.id_hi = 7;
    e.id_lo = static_cast<std::uint64_t>(i);
    e.at = kAt + i * 20 * core::kMicrosPerSecond;
    e.code.Assign(i % 2 == 0 ? "abc" : "xyz");
    e.ip = i % 3 == 0 ? nowhere : berlin;
    e.user_agent.Assign(agents_seen[i % 3]);
    e.referrer.Assign(i % 4 == 0 ? "" : "https://Example.org:8080/x");
    e.head = i == 29;
    embedded.Add(e);
    ClickMessage m;
    MessageOf(e, producer, geo, m);
    ClickMessage decoded;
    ASSERT_TRUE(DecodeClickMessage(Encode(m), decoded));
    const Aggregator::Enrichment& enrichment = worker.Add(decoded);
    EXPECT_EQ(enrichment.bot, i % 3 == 2 || e.head);
  }
  auto a = embedded.Take();
  auto b = worker.Take();
  auto by_code = [](auto& deltas) {
    std::sort(deltas.begin(), deltas.end(),
              [](const auto& x, const auto& y) { return x.code < y.code; });
  };
  by_code(a);
  by_code(b);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].code, b[i].code);
    EXPECT_EQ(a[i].clicks, b[i].clicks);
    EXPECT_EQ(a[i].bot_clicks, b[i].bot_clicks);
    EXPECT_EQ(a[i].visitors, b[i].visitors);
    EXPECT_EQ(a[i].breakdowns, b[i].breakdowns);
    EXPECT_EQ(a[i].minutes, b[i].minutes);
    EXPECT_EQ(a[i].last_clicked_at, b[i].last_clicked_at);
  }
}

}  // namespace
}  // namespace kurz::analytics
