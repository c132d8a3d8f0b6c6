// Links API: POST/GET/DELETE /v1/urls (API.md "Links").

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

class LinksTest : public KurzTest {};

TEST_F(LinksTest, CreateAnswers201WithTheLinkObject) {
  const std::string url = UniqueUrl();
  const std::int64_t before = static_cast<std::int64_t>(std::time(nullptr));
  Reply reply = Admin().Post("/v1/urls", {{"url", url}});
  ASSERT_EQ(reply.status, 201) << reply.Describe();
  EXPECT_TRUE(reply.Header("content-type").starts_with("application/json")) << reply.Describe();
  json link = reply.Json();
  ASSERT_TRUE(link.is_object()) << reply.Describe();

  ASSERT_TRUE(link["code"].is_string()) << reply.Describe();
  const std::string code = link["code"];
  EXPECT_EQ(code.size(), 7u) << code;
  EXPECT_TRUE(IsBase62(code)) << code;
  EXPECT_EQ(reply.Header("location"), "/v1/urls/" + code);
  EXPECT_EQ(link["short_url"], Origin() + "/" + code);
  EXPECT_EQ(link["url"], url);
  ASSERT_TRUE(link["created_at"].is_string()) << reply.Describe();
  auto created = ParseRfc3339(link["created_at"].get<std::string>());
  ASSERT_TRUE(created.has_value()) << link["created_at"];
  EXPECT_LE(std::llabs(*created - before), 5) << link["created_at"];
  EXPECT_TRUE(link.contains("expires_at") && link["expires_at"].is_null()) << reply.Describe();
  EXPECT_EQ(link["redirect_type"], 301);
  EXPECT_EQ(link["is_custom"], false);
  EXPECT_EQ(link["metadata"], json::object());
  EXPECT_EQ(link["click_count"], 0);
}

TEST_F(LinksTest, CreateWithEveryOptionalField) {
  const std::string url = UniqueUrl();
  json body = {{"url", url},
               {"custom_code", "launch-2026_x"},
               {"redirect_type", 302},
               {"expires_in", 3600},
               {"metadata", {{"campaign", "spring"}, {"n", 3}}}};
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  Reply reply = Admin().Post("/v1/urls", body);
  ASSERT_EQ(reply.status, 201) << reply.Describe();
  json link = reply.Json();
  EXPECT_EQ(link["code"], "launch-2026_x");
  EXPECT_EQ(link["short_url"], Origin() + "/launch-2026_x");
  EXPECT_EQ(reply.Header("location"), "/v1/urls/launch-2026_x");
  EXPECT_EQ(link["url"], url);
  EXPECT_EQ(link["redirect_type"], 302);
  EXPECT_EQ(link["is_custom"], true);
  EXPECT_EQ(link["metadata"], body["metadata"]);
  ASSERT_TRUE(link["expires_at"].is_string()) << reply.Describe();
  auto expires = ParseRfc3339(link["expires_at"].get<std::string>());
  ASSERT_TRUE(expires.has_value()) << link["expires_at"];
  EXPECT_LE(std::llabs(*expires - (now + 3600)), 5) << link["expires_at"];
}

TEST_F(LinksTest, ExpiresAtIsKeptAsGiven) {
  json link = CreateLink({{"url", UniqueUrl()}, {"expires_at", "2099-01-01T00:00:00Z"}});
  EXPECT_EQ(link["expires_at"], "2099-01-01T00:00:00Z");
}

TEST_F(LinksTest, RedirectType307IsAccepted) {
  json link = CreateLink({{"url", UniqueUrl()}, {"redirect_type", 307}});
  EXPECT_EQ(link["redirect_type"], 307);
}

TEST_F(LinksTest, ContentTypeWithCharsetIsAccepted) {
  json body = {{"url", UniqueUrl()}};
  Reply reply = Admin().Send("POST", "/v1/urls", body.dump(), "application/json; charset=utf-8");
  EXPECT_EQ(reply.status, 201) << reply.Describe();
  // Media types are case-insensitive (RFC 9110 8.3.1).
  body["url"] = UniqueUrl();
  Reply upper = Admin().Send("POST", "/v1/urls", body.dump(), "Application/JSON; charset=UTF-8");
  EXPECT_EQ(upper.status, 201) << upper.Describe();
}

TEST_F(LinksTest, BodyWithoutJsonContentTypeIs415) {
  json body = {{"url", UniqueUrl()}};
  for (const char* content_type : {"", "text/plain", "application/x-www-form-urlencoded"}) {
    Reply reply = Admin().Send("POST", "/v1/urls", body.dump(), content_type);
    EXPECT_EQ(reply.status, 415) << "Content-Type '" << content_type << "': " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "unsupported_media_type") << reply.Describe();
  }
}

TEST_F(LinksTest, NonAsciiUrlIsStoredAsGiven) {
  const std::string url =
      "https://b\xC3\xBC"
      "cher.example/wiki/Stra\xC3\x9F"
      "e";
  json link = CreateLink({{"url", url}});
  EXPECT_EQ(link["url"], url);
  Reply again = Admin().Get("/v1/urls/" + link["code"].get<std::string>());
  ASSERT_EQ(again.status, 200) << again.Describe();
  EXPECT_EQ(again.Json()["url"], url);
}

TEST_F(LinksTest, GeneratedCodesAreNotNeighbours) {
  auto value = [](const std::string& code) {
    const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::int64_t v = 0;
    for (char c : code) v = v * 62 + static_cast<std::int64_t>(alphabet.find(c));
    return v;
  };
  std::vector<std::string> codes;
  codes.reserve(6);
  for (int i = 0; i < 6; ++i) codes.push_back(CreateLink({{"url", UniqueUrl()}})["code"]);
  std::set<std::string> distinct(codes.begin(), codes.end());
  EXPECT_EQ(distinct.size(), codes.size());
  for (std::size_t i = 1; i < codes.size(); ++i) {
    ASSERT_EQ(codes[i].size(), 7u) << codes[i];
    ASSERT_TRUE(IsBase62(codes[i])) << codes[i];
    int differing = 0;
    for (std::size_t j = 0; j < 7; ++j) differing += codes[i][j] != codes[i - 1][j] ? 1 : 0;
    EXPECT_GE(differing, 2) << codes[i - 1] << " then " << codes[i];
    EXPECT_GT(std::llabs(value(codes[i]) - value(codes[i - 1])), 62)
        << codes[i - 1] << " then " << codes[i];
  }
}

TEST_F(LinksTest, SameUrlIsDeduplicated) {
  const std::string url = UniqueUrl();
  Reply first = Admin().Post("/v1/urls", {{"url", url}});
  ASSERT_EQ(first.status, 201) << first.Describe();
  Reply second = Admin().Post("/v1/urls", {{"url", url}});
  ASSERT_EQ(second.status, 200) << second.Describe();
  EXPECT_EQ(second.Json()["code"], first.Json()["code"]);
  EXPECT_EQ(second.Json()["url"], url);
  // An explicit default redirect_type is the same request.
  Reply third = Admin().Post("/v1/urls", {{"url", url}, {"redirect_type", 301}});
  ASSERT_EQ(third.status, 200) << third.Describe();
  EXPECT_EQ(third.Json()["code"], first.Json()["code"]);
}

TEST_F(LinksTest, DifferentRedirectTypeExpiryOrCustomCodeIsANewLink) {
  const std::string url = UniqueUrl();
  const std::string code = CreateLink({{"url", url}})["code"];
  std::set<std::string> codes = {code};
  for (const json& body :
       {json{{"url", url}, {"redirect_type", 302}}, json{{"url", url}, {"expires_in", 3600}},
        json{{"url", url}, {"expires_at", "2099-01-01T00:00:00Z"}},
        json{{"url", url}, {"custom_code", "dedup-custom"}}}) {
    Reply reply = Admin().Post("/v1/urls", body);
    ASSERT_EQ(reply.status, 201) << body.dump() << ": " << reply.Describe();
    EXPECT_TRUE(codes.insert(reply.Json()["code"].get<std::string>()).second) << reply.Describe();
  }
}

TEST_F(LinksTest, DeduplicationIsPerOwner) {
  const std::string url = UniqueUrl();
  const std::string admin_code = CreateLink({{"url", url}})["code"];
  NewUser user = CreateUser("dedup-owner@example.com");
  Reply reply = As(user.api_key).Post("/v1/urls", {{"url", url}});
  ASSERT_EQ(reply.status, 201) << reply.Describe();
  EXPECT_NE(reply.Json()["code"], admin_code);
}

TEST_F(LinksTest, DeletedLinkIsNotReusedByDeduplication) {
  const std::string url = UniqueUrl();
  const std::string code = CreateLink({{"url", url}})["code"];
  Expect(Admin().Delete("/v1/urls/" + code), 204, "DELETE");
  Reply reply = Admin().Post("/v1/urls", {{"url", url}});
  ASSERT_EQ(reply.status, 201) << reply.Describe();
  EXPECT_NE(reply.Json()["code"], code);
}

struct BadCreate {
  std::string name;
  std::string body;  // raw request body
  std::string code;  // expected error code (all 400)
};

void PrintTo(const BadCreate& c, std::ostream* os) { *os << c.name << ": " << c.body; }

class LinksBadInputTest : public KurzTest, public ::testing::WithParamInterface<BadCreate> {};

TEST_P(LinksBadInputTest, IsRejectedWith400) {
  const BadCreate& c = GetParam();
  Reply reply = Admin().Send("POST", "/v1/urls", c.body, "application/json");
  EXPECT_EQ(reply.status, 400) << c.body << "\n" << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), c.code) << c.body << "\n" << reply.Describe();
  EXPECT_TRUE(reply.Header("content-type").starts_with("application/json")) << reply.Describe();
  const json body = json::parse(reply.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << reply.Describe();
  EXPECT_TRUE(body["error"]["message"].is_string()) << reply.Describe();
}

std::string UrlBody(const std::string& extra) {
  return R"({"url":"https://example.com/a")" + (extra.empty() ? "" : "," + extra) + "}";
}

std::vector<BadCreate> BadCreates() {
  std::vector<BadCreate> cases = {
      {"NotJson", "not json", "invalid_json"},
      {"TruncatedJson", R"({"url":"https://example.com/")", "invalid_json"},
      {"JsonArray", R"(["https://example.com/"])", "invalid_json"},
      {"JsonString", R"("https://example.com/")", "invalid_json"},
      {"EmptyBody", "", "invalid_json"},
      {"MissingUrl", "{}", "invalid_url"},
      {"FtpScheme", R"({"url":"ftp://example.com/file"})", "invalid_url"},
      {"JavascriptScheme", R"j({"url":"javascript:alert(1)"})j", "invalid_url"},
      {"NoScheme", R"({"url":"example.com/path"})", "invalid_url"},
      {"NoHost", R"({"url":"https:///path"})", "invalid_url"},
      {"EmptyUrl", R"({"url":""})", "invalid_url"},
      {"UserInfo", R"({"url":"https://user:pass@example.com/"})", "invalid_url"},
      {"Space", R"({"url":"https://example.com/a b"})", "invalid_url"},
      {"HeaderInjection", R"({"url":"https://example.com/a\r\nSet-Cookie: x=1"})", "invalid_url"},
      {"ControlCharacter", R"({"url":"https://example.com/a\u0001b"})", "invalid_url"},
      {"TooLong", R"({"url":"https://example.com/)" + std::string(2049, 'a') + R"("})",
       "invalid_url"},
      {"CodeTooShort", UrlBody(R"("custom_code":"ab")"), "invalid_code"},
      {"CodeTooLong", UrlBody(R"("custom_code":")" + std::string(33, 'a') + "\""), "invalid_code"},
      {"CodeWithSpace", UrlBody(R"("custom_code":"bad code")"), "invalid_code"},
      {"CodeWithSlash", UrlBody(R"("custom_code":"bad/code")"), "invalid_code"},
      {"CodeWithDot", UrlBody(R"("custom_code":"bad.code")"), "invalid_code"},
      {"CodeNonAscii", UrlBody(R"("custom_code":"caf\u00e9-code")"), "invalid_code"},
      {"RedirectType303", UrlBody(R"("redirect_type":303)"), "invalid_argument"},
      {"RedirectType304", UrlBody(R"("redirect_type":304)"), "invalid_argument"},
      {"RedirectType200", UrlBody(R"("redirect_type":200)"), "invalid_argument"},
      {"ExpiresAtPast", UrlBody(R"("expires_at":"2001-01-01T00:00:00Z")"), "invalid_argument"},
      {"ExpiresAtMalformed", UrlBody(R"("expires_at":"tomorrow")"), "invalid_argument"},
      {"ExpiresAtImpossibleDate", UrlBody(R"("expires_at":"2099-02-30T00:00:00Z")"),
       "invalid_argument"},
      {"ExpiresAtNumber", UrlBody(R"("expires_at":4102444800)"), "invalid_argument"},
      {"ExpiresInZero", UrlBody(R"("expires_in":0)"), "invalid_argument"},
      {"ExpiresInNegative", UrlBody(R"("expires_in":-5)"), "invalid_argument"},
      {"ExpiresInString", UrlBody(R"("expires_in":"60")"), "invalid_argument"},
      {"ExpiresInFraction", UrlBody(R"("expires_in":1.5)"), "invalid_argument"},
      {"ExpiresAtAndIn", UrlBody(R"("expires_at":"2099-01-01T00:00:00Z","expires_in":60)"),
       "invalid_argument"},
      {"MetadataString", UrlBody(R"("metadata":"x")"), "invalid_argument"},
      {"MetadataArray", UrlBody(R"("metadata":[1,2])"), "invalid_argument"},
      {"MetadataTooBig", UrlBody(R"("metadata":{"k":")" + std::string(4200, 'm') + "\"}"),
       "invalid_argument"},
      {"UnknownField", UrlBody(R"("colour":"blue")"), "invalid_argument"},
  };
  for (const char* reserved : {"v1", "api", "healthz", "readyz", "metrics", "ui", "static", "admin",
                               "favicon.ico", "robots.txt"}) {
    std::string name = std::string("Reserved_") + reserved;
    for (char& ch : name) {
      if (ch == '.') ch = '_';
    }
    cases.push_back(
        {name, UrlBody(std::string(R"("custom_code":")") + reserved + "\""), "invalid_code"});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Create, LinksBadInputTest, ::testing::ValuesIn(BadCreates()),
                         [](const auto& info) { return info.param.name; });

TEST_F(LinksTest, MetadataJustUnder4KiBIsAccepted) {
  json metadata = {{"k", std::string(3900, 'm')}};
  json link = CreateLink({{"url", UniqueUrl()}, {"metadata", metadata}});
  EXPECT_EQ(link["metadata"], metadata);
}

TEST_F(LinksTest, UrlOf2048BytesIsAccepted) {
  std::string url = "https://example.com/";
  url += std::string(2048 - url.size(), 'a');
  json link = CreateLink({{"url", url}});
  EXPECT_EQ(link["url"], url);
}

TEST_F(LinksTest, UrlPointingAtTheServiceItselfIsRefused) {
  const std::string upper_scheme = "HTTP://127.0.0.1:" + std::to_string(port()) + "/abcdefg";
  for (const std::string& url : {Origin() + "/abcdefg", Origin() + "/abcdefg?x=1", upper_scheme}) {
    Reply reply = Admin().Post("/v1/urls", {{"url", url}});
    EXPECT_EQ(reply.status, 400) << url << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_url") << url << ": " << reply.Describe();
  }
}

TEST_F(LinksTest, TakenCustomCodeIs409ForEveryone) {
  CreateLink({{"url", UniqueUrl()}, {"custom_code", "taken-code"}});
  Reply again = Admin().Post("/v1/urls", {{"url", UniqueUrl()}, {"custom_code", "taken-code"}});
  EXPECT_EQ(again.status, 409) << again.Describe();
  EXPECT_EQ(again.ErrorCode(), "code_taken") << again.Describe();

  NewUser user = CreateUser("taker@example.com");
  Reply other =
      As(user.api_key).Post("/v1/urls", {{"url", UniqueUrl()}, {"custom_code", "taken-code"}});
  EXPECT_EQ(other.status, 409) << other.Describe();
  EXPECT_EQ(other.ErrorCode(), "code_taken") << other.Describe();
}

TEST_F(LinksTest, ConcurrentCreatesOfOneCustomCodeHaveOneWinner) {
  constexpr int kRacers = 12;
  std::vector<int> statuses(kRacers);
  std::vector<std::string> urls;
  urls.reserve(kRacers);
  for (int i = 0; i < kRacers; ++i) urls.push_back(UniqueUrl());
  std::vector<std::thread> racers;
  racers.reserve(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      try {
        statuses[i] =
            Admin().Post("/v1/urls", {{"url", urls[i]}, {"custom_code", "race-me"}}).status;
      } catch (const std::exception&) {
        statuses[i] = -1;
      }
    });
  }
  for (auto& r : racers) r.join();
  EXPECT_EQ(std::ranges::count(statuses, 201), 1) << ::testing::PrintToString(statuses);
  EXPECT_EQ(std::ranges::count(statuses, 409), kRacers - 1) << ::testing::PrintToString(statuses);
  const int winner = static_cast<int>(std::ranges::find(statuses, 201) - statuses.begin());
  if (winner < kRacers) {
    EXPECT_EQ(Visit("/race-me").Header("location"), urls[winner]);
  }
}

TEST_F(LinksTest, ConcurrentIdenticalCreatesShareOneLink) {
  // Deduplication must hold when the same request arrives several times at once (a client
  // retrying on a timeout, a double-clicked button): one link, one 201, the rest 200.
  constexpr int kRacers = 12;
  const std::string url = UniqueUrl();
  std::vector<int> statuses(kRacers);
  std::vector<std::string> codes(kRacers);
  std::vector<std::thread> racers;
  racers.reserve(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      try {
        Reply reply = Admin().Post("/v1/urls", {{"url", url}});
        statuses[i] = reply.status;
        codes[i] = reply.Json().value("code", "");
      } catch (const std::exception&) {
        statuses[i] = -1;
      }
    });
  }
  for (auto& r : racers) r.join();
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), 1u)
      << ::testing::PrintToString(codes);
  EXPECT_EQ(std::ranges::count(statuses, 201), 1) << ::testing::PrintToString(statuses);
  Reply list = Admin().Get("/v1/urls");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_EQ(list.Json()["items"].size(), 1u) << list.Describe();
}

TEST_F(LinksTest, GetReturnsTheSameLinkObject) {
  json created = CreateLink({{"url", UniqueUrl()}, {"metadata", {{"a", 1}}}});
  Reply reply = Admin().Get("/v1/urls/" + created["code"].get<std::string>());
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  json link = reply.Json();
  for (const char* field : {"code", "short_url", "url", "created_at", "expires_at", "redirect_type",
                            "is_custom", "metadata", "click_count"}) {
    EXPECT_EQ(link[field], created[field]) << field;
  }
}

TEST_F(LinksTest, GetUnknownCodeIs404) {
  Reply reply = Admin().Get("/v1/urls/Nope123");
  EXPECT_EQ(reply.status, 404) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "not_found") << reply.Describe();
}

TEST_F(LinksTest, ListPagesThroughEveryLinkNewestFirst) {
  std::vector<std::string> created;
  created.reserve(7);
  for (int i = 0; i < 7; ++i) created.push_back(CreateLink({{"url", UniqueUrl()}})["code"]);

  std::vector<std::string> listed;
  std::string path = "/v1/urls?limit=3";
  std::vector<std::size_t> page_sizes;
  for (int page = 0; page < 10; ++page) {
    Reply reply = Admin().Get(path);
    ASSERT_EQ(reply.status, 200) << path << ": " << reply.Describe();
    json body = reply.Json();
    ASSERT_TRUE(body["items"].is_array()) << reply.Describe();
    ASSERT_TRUE(body.contains("next_cursor")) << reply.Describe();
    page_sizes.push_back(body["items"].size());
    for (const json& item : body["items"]) listed.push_back(item["code"]);
    if (body["next_cursor"].is_null()) break;
    ASSERT_TRUE(body["next_cursor"].is_string()) << reply.Describe();
    ASSERT_LE(body["items"].size(), 3u);
    path = "/v1/urls?limit=3&cursor=" + body["next_cursor"].get<std::string>();
  }
  std::vector<std::string> expected(created.rbegin(), created.rend());
  EXPECT_EQ(listed, expected);
  ASSERT_GE(page_sizes.size(), 3u);
  EXPECT_EQ(page_sizes[0], 3u);
  EXPECT_EQ(page_sizes[1], 3u);
}

TEST_F(LinksTest, PagingIsStableUnderConcurrentInserts) {
  std::vector<std::string> created;
  created.reserve(7);
  for (int i = 0; i < 7; ++i) created.push_back(CreateLink({{"url", UniqueUrl()}})["code"]);
  Reply first = Admin().Get("/v1/urls?limit=3");
  ASSERT_EQ(first.status, 200) << first.Describe();
  const json first_page = first.Json();
  std::vector<std::string> listed;
  for (const json& item : first_page["items"]) listed.push_back(item["code"]);
  ASSERT_TRUE(first_page["next_cursor"].is_string()) << first.Describe();
  std::string cursor = first_page["next_cursor"];

  // Newer links arrive between pages; the pages after the cursor do not change.
  for (int i = 0; i < 3; ++i) CreateLink({{"url", UniqueUrl()}});
  for (int page = 0; page < 10 && !cursor.empty(); ++page) {
    Reply reply = Admin().Get("/v1/urls?limit=3&cursor=" + cursor);
    ASSERT_EQ(reply.status, 200) << reply.Describe();
    const json body = reply.Json();
    for (const json& item : body["items"]) listed.push_back(item["code"]);
    cursor = body["next_cursor"].is_string() ? body["next_cursor"].get<std::string>() : "";
  }
  EXPECT_EQ(listed, std::vector<std::string>(created.rbegin(), created.rend()));
}

TEST_F(LinksTest, ListWithoutParametersAndCursorIsNullAtTheEnd) {
  json link = CreateLink({{"url", UniqueUrl()}});
  Reply reply = Admin().Get("/v1/urls");
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  json body = reply.Json();
  ASSERT_EQ(body["items"].size(), 1u) << reply.Describe();
  EXPECT_EQ(body["items"][0], link);
  EXPECT_TRUE(body.contains("next_cursor") && body["next_cursor"].is_null()) << reply.Describe();
}

TEST_F(LinksTest, ListOnAnEmptyAccount) {
  Reply reply = Admin().Get("/v1/urls?limit=1000");
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  json body = reply.Json();
  EXPECT_EQ(body["items"], json::array());
  EXPECT_TRUE(body["next_cursor"].is_null()) << reply.Describe();
}

TEST_F(LinksTest, ListRejectsBadLimitAndCursor) {
  for (const char* query : {"limit=0", "limit=1001", "limit=x", "limit=-1", "cursor=garbage",
                            "cursor=%00%01", "limit=3&cursor=bm90LWEtY3Vyc29y"}) {
    Reply reply = Admin().Get(std::string("/v1/urls?") + query);
    EXPECT_EQ(reply.status, 400) << query << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << query << ": " << reply.Describe();
  }
}

TEST_F(LinksTest, OtherUsersLinksAreInvisible) {
  NewUser alice = CreateUser("alice@example.com");
  Api as_alice = As(alice.api_key);
  const std::string code = CreateLink(as_alice, {{"url", UniqueUrl()}})["code"];
  const std::string admin_code = CreateLink({{"url", UniqueUrl()}})["code"];

  for (const std::string& path : {"/v1/urls/" + code, "/v1/urls/" + code + "/stats"}) {
    Reply reply = Admin().Get(path);
    EXPECT_EQ(reply.status, 404) << path << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "not_found") << reply.Describe();
  }
  Reply del = Admin().Delete("/v1/urls/" + code);
  EXPECT_EQ(del.status, 404) << del.Describe();
  Reply alice_del = as_alice.Delete("/v1/urls/" + admin_code);
  EXPECT_EQ(alice_del.status, 404) << alice_del.Describe();

  Reply admin_list = Admin().Get("/v1/urls");
  ASSERT_EQ(admin_list.status, 200) << admin_list.Describe();
  ASSERT_EQ(admin_list.Json()["items"].size(), 1u) << admin_list.Describe();
  EXPECT_EQ(admin_list.Json()["items"][0]["code"], admin_code);
  Reply alice_list = as_alice.Get("/v1/urls");
  ASSERT_EQ(alice_list.status, 200) << alice_list.Describe();
  ASSERT_EQ(alice_list.Json()["items"].size(), 1u) << alice_list.Describe();
  EXPECT_EQ(alice_list.Json()["items"][0]["code"], code);

  // Still Alice's, still redirecting.
  EXPECT_EQ(as_alice.Get("/v1/urls/" + code).status, 200);
  EXPECT_EQ(Visit("/" + code).status, 301);
}

TEST_F(LinksTest, DeleteAnswers204AndAgain404) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  Reply reply = Admin().Delete("/v1/urls/" + code);
  EXPECT_EQ(reply.status, 204) << reply.Describe();
  EXPECT_TRUE(reply.body.empty()) << reply.Describe();
  Reply again = Admin().Delete("/v1/urls/" + code);
  EXPECT_EQ(again.status, 404) << again.Describe();
  EXPECT_EQ(again.ErrorCode(), "not_found") << again.Describe();
  EXPECT_EQ(Admin().Delete("/v1/urls/Unknown1").status, 404);
}

TEST_F(LinksTest, DeletedLinkIsGoneFromTheList) {
  const std::string kept = CreateLink({{"url", UniqueUrl()}})["code"];
  const std::string deleted = CreateLink({{"url", UniqueUrl()}})["code"];
  Expect(Admin().Delete("/v1/urls/" + deleted), 204, "DELETE");
  Reply list = Admin().Get("/v1/urls");
  ASSERT_EQ(list.status, 200) << list.Describe();
  ASSERT_EQ(list.Json()["items"].size(), 1u) << list.Describe();
  EXPECT_EQ(list.Json()["items"][0]["code"], kept);
}

TEST_F(LinksTest, CustomCodeOfADeletedLinkStaysTaken) {
  CreateLink({{"url", UniqueUrl()}, {"custom_code", "once-only"}});
  Expect(Admin().Delete("/v1/urls/once-only"), 204, "DELETE");
  Reply reply = Admin().Post("/v1/urls", {{"url", UniqueUrl()}, {"custom_code", "once-only"}});
  EXPECT_EQ(reply.status, 409) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "code_taken") << reply.Describe();
}

TEST_F(LinksTest, UnsupportedMethodIs405WithAllow) {
  Reply reply =
      Admin().Send("PUT", "/v1/urls", R"({"url":"https://example.com/"})", "application/json");
  EXPECT_EQ(reply.status, 405) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "method_not_allowed") << reply.Describe();
  const std::string allow = reply.Header("allow");
  EXPECT_NE(allow.find("GET"), std::string::npos) << reply.Describe();
  EXPECT_NE(allow.find("POST"), std::string::npos) << reply.Describe();

  Reply del = Admin().Delete("/v1/urls");
  EXPECT_EQ(del.status, 405) << del.Describe();
  EXPECT_NE(del.Header("allow").find("POST"), std::string::npos) << del.Describe();

  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  Reply patch = Admin().Patch("/v1/urls/" + code + "/stats", json::object());
  EXPECT_EQ(patch.status, 405) << patch.Describe();
  EXPECT_TRUE(patch.Has("allow")) << patch.Describe();
}

TEST_F(LinksTest, OversizedBodyIs413) {
  json body = {{"url", UniqueUrl()},
               {"metadata", {{"k", std::string(std::size_t{70} * 1024, 'x')}}}};
  Reply reply = Admin().Post("/v1/urls", body);
  EXPECT_EQ(reply.status, 413) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "payload_too_large") << reply.Describe();
}

class BaseUrlTest : public KurzTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--base-url", "https://sho.rt"}; }
};

TEST_F(BaseUrlTest, ShortUrlUsesTheBaseUrl) {
  json link = CreateLink({{"url", UniqueUrl()}});
  EXPECT_EQ(link["short_url"], "https://sho.rt/" + link["code"].get<std::string>());
  json custom = CreateLink({{"url", UniqueUrl()}, {"custom_code", "my-code"}});
  EXPECT_EQ(custom["short_url"], "https://sho.rt/my-code");
}

TEST_F(BaseUrlTest, UrlPointingAtTheBaseUrlIsRefused) {
  Reply reply = Admin().Post("/v1/urls", {{"url", "https://sho.rt/abcdefg"}});
  EXPECT_EQ(reply.status, 400) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "invalid_url") << reply.Describe();
}

}  // namespace
}  // namespace kurz::testing
