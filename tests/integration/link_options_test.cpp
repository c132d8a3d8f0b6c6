// Link options, editing, finding and bulk (API.md "Link options beyond the seed" and "Changing,
// finding and bulk"), through HTTP against a real kurz (embedded, and again in cluster mode).

#include <atomic>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

class LinkOptionsTest : public KurzTest {
 protected:
  std::string Code(const json& link) { return link["code"].get<std::string>(); }
  // The codes of a GET /v1/urls answer, in order.
  static std::vector<std::string> Codes(const Reply& reply) {
    std::vector<std::string> codes;
    const json body = reply.Json();
    for (const json& item : body["items"]) codes.push_back(item["code"]);
    return codes;
  }
};

constexpr const char* kChrome =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36";

TEST_F(LinkOptionsTest, EveryOptionRoundTripsAndSecretsNeverShow) {
  const json body = {
      {"url", UniqueUrl()},
      {"title", "Spring launch"},
      {"tags", {"Spring 2026", "newsletter"}},
      {"forward_query", true},
      {"password", "correct horse"},
      {"max_clicks", 1000},
      {"expired_url", "https://example.com/over"},
      {"rules",
       {{{"if", {{"country", {"DE", "AT"}}, {"device", {"mobile"}}}},
         {"url", "https://example.de/app"}}}},
      {"variants",
       {{{"url", "https://a.example/"}, {"weight", 70}},
        {{"url", "https://b.example/"}, {"weight", 30}}}},
      {"og", {{"title", "Card"}, {"description", "A <b>card</b>"}, {"image", "https://x/c.png"}}}};
  Reply reply = Admin().Post("/v1/urls", body);
  ASSERT_EQ(reply.status, 201) << reply.Describe();
  for (const json& link : {reply.Json(), Admin().Get("/v1/urls/" + Code(reply.Json())).Json()}) {
    EXPECT_EQ(link["title"], "Spring launch");
    EXPECT_EQ(link["tags"], json({"Spring 2026", "newsletter"}));
    EXPECT_EQ(link["forward_query"], true);
    EXPECT_EQ(link["password_protected"], true);
    EXPECT_FALSE(link.contains("password")) << link;
    EXPECT_EQ(link.dump().find("argon2"), std::string::npos) << link;
    EXPECT_EQ(link["max_clicks"], 1000);
    EXPECT_EQ(link["clicks_left"], 1000);
    EXPECT_EQ(link["expired_url"], "https://example.com/over");
    EXPECT_EQ(link["rules"][0]["if"]["country"], json({"DE", "AT"}));
    EXPECT_EQ(link["rules"][0]["url"], "https://example.de/app");
    EXPECT_EQ(link["variants"][1]["weight"], 30);
    EXPECT_EQ(link["og"]["description"], "A <b>card</b>");
  }
}

TEST_F(LinkOptionsTest, APlainLinkShowsEveryOptionEmpty) {
  const json link = CreateLink({{"url", UniqueUrl()}});
  EXPECT_EQ(link["title"], "");
  EXPECT_EQ(link["tags"], json::array());
  EXPECT_EQ(link["forward_query"], false);
  EXPECT_EQ(link["password_protected"], false);
  EXPECT_TRUE(link["max_clicks"].is_null());
  EXPECT_TRUE(link["clicks_left"].is_null());
  EXPECT_TRUE(link["expired_url"].is_null());
  EXPECT_EQ(link["rules"], json::array());
  EXPECT_EQ(link["variants"], json::array());
  EXPECT_TRUE(link["og"].is_null());
}

TEST_F(LinkOptionsTest, BadOptionValuesAre400NamingTheField) {
  const std::string url = UniqueUrl();
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"title", std::string(201, 'x')}}, "title"},
      {{{"title", 5}}, "title"},
      {{{"tags", "one"}}, "tags"},
      {{{"tags", {""}}}, "tags"},
      {{{"tags", {std::string(65, 't')}}}, "tags"},
      {{{"tags",
         [] {
           json many = json::array();
           for (int i = 0; i < 21; ++i) many.push_back("t" + std::to_string(i));
           return many;
         }()}},
       "tags"},
      {{{"forward_query", "yes"}}, "forward_query"},
      {{{"password", "short"}}, "password"},
      {{{"password", std::string(129, 'p')}}, "password"},
      {{{"max_clicks", 0}}, "max_clicks"},
      {{{"max_clicks", 1.5}}, "max_clicks"},
      {{{"expired_url", "ftp://x.example/"}}, "expired_url"},
      {{{"rules", {{{"if", json::object()}, {"url", "https://a.example/"}}}}}, "rules[0].if"},
      {{{"rules", {{{"if", {{"device", {"phone"}}}}, {"url", "https://a.example/"}}}}},
       "rules[0].if.device"},
      {{{"rules", {{{"if", {{"country", {"Germany"}}}}, {"url", "https://a.example/"}}}}},
       "rules[0].if.country"},
      {{{"rules", {{{"if", {{"country", {"DE"}}}}, {"url", "javascript:alert(1)"}}}}},
       "rules[0].url"},
      {{{"rules",
         {{{"if", {{"after", "2027-01-02T00:00:00Z"}, {"before", "2027-01-01T00:00:00Z"}}},
           {"url", "https://a.example/"}}}}},
       "rules[0].if"},
      {{{"variants", {{{"url", "https://a.example/"}, {"weight", 50}}}}}, "variants"},
      {{{"variants",
         {{{"url", "https://a.example/"}, {"weight", 0}},
          {{"url", "https://b.example/"}, {"weight", 5}}}}},
       "variants[0].weight"},
      {{{"og", {{"image", "not a url"}}}}, "og.image"},
      {{{"og", {{"colour", "red"}}}}, "og"},
      {{{"redirect_type", 303}}, "redirect_type"},
  };
  for (const auto& [fields, name] : cases) {
    json body = fields;
    body["url"] = url;
    Reply reply = Admin().Post("/v1/urls", body);
    EXPECT_EQ(reply.status, 400) << body << "\n" << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << body << "\n" << reply.Describe();
    EXPECT_NE(reply.Json()["error"]["message"].get<std::string>().find(name), std::string::npos)
        << name << ": " << reply.Describe();
  }
}

TEST_F(LinkOptionsTest, Redirect308IsPermanentAndCachedAtTheEdge) {
  const json link = CreateLink({{"url", UniqueUrl()}, {"redirect_type", 308}});
  EXPECT_EQ(link["redirect_type"], 308);
  Reply reply = Visit("/" + Code(link));
  EXPECT_EQ(reply.status, 308) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), link["url"]);
  EXPECT_EQ(reply.Header("cache-control"), "public, max-age=3600");
}

TEST_F(LinkOptionsTest, PatchChangesTheLinkAndTheVeryNextRedirect) {
  const json link = CreateLink({{"url", UniqueUrl("before")}});
  const std::string code = Code(link);
  ASSERT_EQ(Visit("/" + code).Header("location"), link["url"]);  // now cached
  const std::string after = UniqueUrl("after");
  Reply patched = Admin().Patch("/v1/urls/" + code, {{"url", after},
                                                     {"redirect_type", 302},
                                                     {"title", "New"},
                                                     {"tags", {"a", "B"}},
                                                     {"metadata", {{"k", 1}}}});
  ASSERT_EQ(patched.status, 200) << patched.Describe();
  EXPECT_EQ(patched.Json()["url"], after);
  EXPECT_EQ(patched.Json()["code"], code);
  EXPECT_EQ(patched.Json()["created_at"], link["created_at"]);
  EXPECT_EQ(patched.Json()["tags"], json({"a", "B"}));
  Reply redirect = Visit("/" + code);
  EXPECT_EQ(redirect.status, 302) << redirect.Describe();
  EXPECT_EQ(redirect.Header("location"), after);
  EXPECT_EQ(Admin().Get("/v1/urls/" + code).Json()["title"], "New");
}

TEST_F(LinkOptionsTest, PatchNullRemovesAnOptionAndExpiry) {
  const json link = CreateLink({{"url", UniqueUrl()},
                                {"max_clicks", 5},
                                {"expires_in", 3600},
                                {"expired_url", "https://example.com/over"},
                                {"og", {{"title", "t"}}}});
  Reply patched = Admin().Patch("/v1/urls/" + Code(link), {{"max_clicks", nullptr},
                                                           {"expires_at", nullptr},
                                                           {"expired_url", nullptr},
                                                           {"og", nullptr}});
  ASSERT_EQ(patched.status, 200) << patched.Describe();
  const json now = patched.Json();
  EXPECT_TRUE(now["max_clicks"].is_null()) << now;
  EXPECT_TRUE(now["clicks_left"].is_null()) << now;
  EXPECT_TRUE(now["expires_at"].is_null()) << now;
  EXPECT_TRUE(now["expired_url"].is_null()) << now;
  EXPECT_TRUE(now["og"].is_null()) << now;
}

TEST_F(LinkOptionsTest, PatchErrors) {
  const json link = CreateLink({{"url", UniqueUrl()}});
  const std::string path = "/v1/urls/" + Code(link);
  for (const json& body : {json::object(), json{{"code", "other1"}}, json{{"custom_code", "x1x"}},
                           json{{"click_count", 5}}, json{{"nonsense", 1}}, json{{"url", nullptr}},
                           json{{"url", "notaurl"}}, json{{"expires_at", "2001-01-01T00:00:00Z"}},
                           json{{"tags", nullptr}}}) {
    Reply reply = Admin().Patch(path, body);
    EXPECT_EQ(reply.status, 400) << body << "\n" << reply.Describe();
  }
  EXPECT_EQ(Admin().Patch("/v1/urls/nosuch1", {{"title", "x"}}).status, 404);
  // Into a duplicate of another plain link of the owner: 409, nothing changed.
  const json other = CreateLink({{"url", UniqueUrl()}});
  Reply dup = Admin().Patch(path, {{"url", other["url"]}});
  EXPECT_EQ(dup.status, 409) << dup.Describe();
  EXPECT_EQ(Admin().Get(path).Json()["url"], link["url"]);
  Reply not_json = Admin().Send("PATCH", path, "{", "application/json");
  EXPECT_EQ(not_json.status, 400) << not_json.Describe();
  EXPECT_EQ(not_json.ErrorCode(), "invalid_json");
  ASSERT_EQ(Admin().Delete(path).status, 204);
  EXPECT_EQ(Admin().Patch(path, {{"title", "x"}}).status, 404);
}

TEST_F(LinkOptionsTest, PatchNeedsTheUpdatePermissionAndOnlyForOwnLinks) {
  const json link = CreateLink({{"url", UniqueUrl()}});
  const std::string path = "/v1/urls/" + Code(link);
  NewUser user = CreateUser("patcher@example.com");
  EXPECT_NE(user.body["api_key"].dump().size(), 0u);
  // A new user's key may update their own links...
  const json own = CreateLink(As(user.api_key), {{"url", UniqueUrl()}});
  EXPECT_EQ(As(user.api_key).Patch("/v1/urls/" + Code(own), {{"title", "mine"}}).status, 200);
  // ...and sees another user's as not existing.
  EXPECT_EQ(As(user.api_key).Patch(path, {{"title", "theirs"}}).status, 404);
  // A key without update: 403.
  Reply key = Admin().Post("/v1/api-keys", {{"name", "ro"}, {"permissions", {"create", "read"}}});
  ASSERT_EQ(key.status, 201) << key.Describe();
  Reply refused = As(key.Json()["key"]).Patch(path, {{"title", "x"}});
  EXPECT_EQ(refused.status, 403) << refused.Describe();
  EXPECT_EQ(Anonymous().Patch(path, {{"title", "x"}}).status, 401);
}

TEST_F(LinkOptionsTest, TagsFilterAndCountCaseInsensitively) {
  const json a = CreateLink({{"url", UniqueUrl()}, {"tags", {"News", "spring"}}});
  const json b = CreateLink({{"url", UniqueUrl()}, {"tags", {"news"}}});
  CreateLink({{"url", UniqueUrl()}, {"tags", {"other"}}});
  Reply news = Admin().Get("/v1/urls?tag=NEWS");
  ASSERT_EQ(news.status, 200) << news.Describe();
  EXPECT_EQ(Codes(news), std::vector<std::string>({Code(b), Code(a)}));
  EXPECT_EQ(Codes(Admin().Get("/v1/urls?tag=news&tag=Spring")), std::vector<std::string>{Code(a)});
  EXPECT_TRUE(Codes(Admin().Get("/v1/urls?tag=none")).empty());
  Reply tags = Admin().Get("/v1/tags");
  ASSERT_EQ(tags.status, 200) << tags.Describe();
  const json items = tags.Json()["items"];
  ASSERT_EQ(items.size(), 3u) << items;
  EXPECT_EQ(items[0]["links"], 2) << items;
  EXPECT_EQ(items[0]["tag"], "News") << items;  // the spelling of its first use
  // A deleted link's tags are not counted.
  ASSERT_EQ(Admin().Delete("/v1/urls/" + Code(a)).status, 204);
  EXPECT_EQ(Admin().Get("/v1/tags").Json()["items"][0]["links"], 1);
}

TEST_F(LinkOptionsTest, SearchMatchesCodeUrlOrTitle) {
  const json by_title = CreateLink({{"url", UniqueUrl()}, {"title", "Quarterly REPORT"}});
  const json by_url = CreateLink({{"url", "https://example.com/report-" + UniqueUrl().substr(8)}});
  const json by_code = CreateLink({{"url", UniqueUrl()}, {"custom_code", "reports-q3"}});
  CreateLink({{"url", UniqueUrl()}, {"title", "something else"}});
  std::set<std::string> found;
  for (const std::string& c : Codes(Admin().Get("/v1/urls?q=RePoRt"))) found.insert(c);
  EXPECT_EQ(found, std::set<std::string>({Code(by_title), Code(by_url), Code(by_code)}));
  // LIKE wildcards are literal.
  EXPECT_TRUE(Codes(Admin().Get("/v1/urls?q=%25")).empty());
  EXPECT_TRUE(Codes(Admin().Get("/v1/urls?q=_")).size() <= 1u);
}

TEST_F(LinkOptionsTest, EverySortPagesWithStableCursors) {
  std::vector<std::string> made;
  for (int i = 0; i < 7; ++i) made.push_back(Code(CreateLink({{"url", UniqueUrl()}})));
  for (int i = 0; i < 3; ++i) Visit("/" + made[2]);
  Visit("/" + made[5]);
  WaitForClicks(Admin(), made[2], 3);
  WaitForClicks(Admin(), made[5], 1);
  for (const std::string sort : {"-created_at", "created_at", "-clicks"}) {
    std::vector<std::string> seen;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      Reply reply = Admin().Get("/v1/urls?limit=3&sort=" + sort +
                                (cursor.empty() ? "" : "&cursor=" + cursor));
      ASSERT_EQ(reply.status, 200) << reply.Describe();
      for (const std::string& c : Codes(reply)) seen.push_back(c);
      if (reply.Json()["next_cursor"].is_null()) break;
      cursor = reply.Json()["next_cursor"];
      // A cursor of one sort is refused by another.
      const std::string other = sort == "-clicks" ? "created_at" : "-clicks";
      EXPECT_EQ(Admin().Get("/v1/urls?sort=" + other + "&cursor=" + cursor).status, 400);
    }
    ASSERT_EQ(seen.size(), made.size()) << sort;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), made.size()) << sort;
    if (sort == "created_at") {
      EXPECT_EQ(seen, made);
    }
    if (sort == "-created_at") {
      EXPECT_EQ(seen, std::vector<std::string>(made.rbegin(), made.rend()));
    }
    if (sort == "-clicks") {
      EXPECT_EQ(seen[0], made[2]);
      EXPECT_EQ(seen[1], made[5]);
    }
  }
  EXPECT_EQ(Admin().Get("/v1/urls?sort=clicks").status, 400);
}

TEST_F(LinkOptionsTest, BulkCreatesEachItemOnItsOwn) {
  const std::string dup = UniqueUrl();
  json items = json::array();
  items.push_back({{"url", UniqueUrl()}, {"title", "one"}});
  items.push_back({{"url", "not a url"}});
  items.push_back({{"url", UniqueUrl()}, {"custom_code", "bulk-code-1"}});
  items.push_back({{"url", UniqueUrl()}, {"custom_code", "bulk-code-1"}});
  items.push_back({{"url", dup}});
  items.push_back({{"url", dup}});
  items.push_back("not an object");
  Reply reply = Admin().Post("/v1/urls/bulk", {{"items", items}});
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  const json results = reply.Json()["results"];
  ASSERT_EQ(results.size(), items.size()) << results;
  for (std::size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i]["index"], i);
  EXPECT_EQ(results[0]["status"], 201);
  EXPECT_EQ(results[0]["link"]["title"], "one");
  EXPECT_EQ(results[1]["status"], 400);
  EXPECT_EQ(results[1]["error"]["code"], "invalid_url");
  EXPECT_EQ(results[2]["status"], 201);
  EXPECT_EQ(results[3]["status"], 409);
  EXPECT_EQ(results[3]["error"]["code"], "code_taken");
  EXPECT_EQ(results[4]["status"], 201);
  EXPECT_EQ(results[5]["status"], 200);  // the same link as item 4
  EXPECT_EQ(results[5]["link"]["code"], results[4]["link"]["code"]);
  EXPECT_EQ(results[6]["status"], 400);
  // What it created is durable and redirects.
  const std::string code = results[0]["link"]["code"];
  EXPECT_EQ(Visit("/" + code).Header("location"), items[0]["url"]);
  EXPECT_EQ(Admin().Get("/v1/urls/bulk-code-1").Json()["url"], items[2]["url"]);
}

TEST_F(LinkOptionsTest, BulkRequestErrors) {
  EXPECT_EQ(Admin().Post("/v1/urls/bulk", {{"items", json::array()}}).status, 400);
  EXPECT_EQ(Admin().Post("/v1/urls/bulk", {{"items", "x"}}).status, 400);
  EXPECT_EQ(Admin().Post("/v1/urls/bulk", {{"things", json::array()}}).status, 400);
  json many = json::array();
  for (int i = 0; i < 1001; ++i)
    many.push_back({{"url", "https://example.com/" + std::to_string(i)}});
  EXPECT_EQ(Admin().Post("/v1/urls/bulk", {{"items", many}}).status, 400);
  EXPECT_EQ(Anonymous().Post("/v1/urls/bulk", {{"items", json::array()}}).status, 401);
  EXPECT_EQ(Admin().Get("/v1/urls/bulk").status, 405);
}

TEST_F(LinkOptionsTest, BulkTakesBodiesUpTo1MiBOtherRoutes64KiB) {
  json items = json::array();
  const std::string pad(900, 'p');
  for (int i = 0; i < 600; ++i) {  // about 560 KiB
    items.push_back({{"url", "https://example.com/" + std::to_string(i) + "/" + pad}});
  }
  Reply big = Admin().Post("/v1/urls/bulk", {{"items", items}});
  ASSERT_EQ(big.status, 200) << big.Describe();
  EXPECT_EQ(big.Json()["results"][599]["status"], 201);
  for (int i = 600; i < 1000; ++i) {  // now over 1 MiB
    items.push_back({{"url", "https://example.com/" + std::to_string(i) + "/" + pad + pad}});
  }
  Reply over = Admin().Post("/v1/urls/bulk", {{"items", items}});
  EXPECT_EQ(over.status, 413) << over.Describe();
  // Any other route still takes 64 KiB at most.
  Reply create = Admin().Post(
      "/v1/urls", {{"url", "https://example.com/"}, {"title", std::string(70'000, 't')}});
  EXPECT_EQ(create.status, 413) << create.Describe();
  EXPECT_EQ(create.ErrorCode(), "payload_too_large");
}

TEST_F(LinkOptionsTest, ClickBudgetAnswersExactlyMaxClicksRedirects) {
  const json link = CreateLink({{"url", UniqueUrl()}, {"max_clicks", 3}});
  const std::string code = Code(link);
  // HEAD and bots use none.
  EXPECT_EQ(Call(port(), "HEAD", "/" + code).status, 301);
  EXPECT_EQ(
      Visit("/" + code, {{"User-Agent", "Googlebot/2.1 (+http://www.google.com/bot.html)"}}).status,
      301);
  for (int i = 0; i < 3; ++i) {
    Reply reply = Visit("/" + code, {{"User-Agent", kChrome}});
    EXPECT_EQ(reply.status, 301) << i << reply.Describe();
    EXPECT_EQ(reply.Header("cache-control"), "private, no-store");
  }
  Reply over = Visit("/" + code, {{"User-Agent", kChrome}});
  EXPECT_EQ(over.status, 410) << over.Describe();
  EXPECT_EQ(Admin().Get("/v1/urls/" + code).Json()["clicks_left"], 0);
  // Budgeted links are never deduplicated.
  Reply again = Admin().Post("/v1/urls", {{"url", link["url"]}, {"max_clicks", 3}});
  EXPECT_EQ(again.status, 201) << again.Describe();
}

TEST_F(LinkOptionsTest, ConcurrentVisitorsNeverOverrunTheBudget) {
  const json link = CreateLink({{"url", UniqueUrl()}, {"max_clicks", 20}});
  const std::string path = "/" + Code(link);
  std::atomic<int> redirects = 0;
  std::atomic<int> gone = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 8; ++i) {
        const int status = Visit(path, {{"User-Agent", kChrome}}).status;
        if (status == 301) ++redirects;
        if (status == 410) ++gone;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(redirects.load(), 20);
  EXPECT_EQ(gone.load(), 28);
}

TEST_F(LinkOptionsTest, AnExhaustedOrExpiredLinkSendsPeopleToExpiredUrl) {
  const json link = CreateLink(
      {{"url", UniqueUrl()}, {"max_clicks", 1}, {"expired_url", "https://example.com/sorry"}});
  EXPECT_EQ(Visit("/" + Code(link), {{"User-Agent", kChrome}}).status, 301);
  Reply over = Visit("/" + Code(link), {{"User-Agent", kChrome}});
  EXPECT_EQ(over.status, 302) << over.Describe();
  EXPECT_EQ(over.Header("location"), "https://example.com/sorry");
  // Expiry too (PATCH to a moment in the past is refused, so expire a link soon).
  const json soon = CreateLink(
      {{"url", UniqueUrl()}, {"expires_in", 1}, {"expired_url", "https://example.com/late"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  Reply late = Visit("/" + Code(soon));
  EXPECT_EQ(late.status, 302) << late.Describe();
  EXPECT_EQ(late.Header("location"), "https://example.com/late");
}

TEST_F(LinkOptionsTest, ForwardQueryAppendsTheShortUrlsQuery) {
  const json link = CreateLink({{"url", "https://example.com/p?a=1#top"}, {"forward_query", true}});
  Reply reply = Visit("/" + Code(link) + "?utm_x=2&b=%20");
  EXPECT_EQ(reply.status, 301) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), "https://example.com/p?a=1&utm_x=2&b=%20#top");
  EXPECT_EQ(Visit("/" + Code(link)).Header("location"), "https://example.com/p?a=1#top");
  // Without forward_query the query is ignored.
  const json plain = CreateLink({{"url", "https://example.com/q"}});
  EXPECT_EQ(Visit("/" + Code(plain) + "?x=1").Header("location"), "https://example.com/q");
}

TEST_F(LinkOptionsTest, PasswordLinksAskForThePassword) {
  const json link = CreateLink({{"url", UniqueUrl()}, {"password", "correct horse"}});
  const std::string code = Code(link);
  Reply form = Visit("/" + code);
  EXPECT_EQ(form.status, 200) << form.Describe();
  EXPECT_TRUE(form.Header("content-type").starts_with("text/html")) << form.Describe();
  EXPECT_NE(form.body.find("name=\"password\""), std::string::npos) << form.body;
  EXPECT_NE(form.body.find("action=\"/" + code + "\""), std::string::npos) << form.body;
  EXPECT_EQ(form.Header("cache-control"), "no-store");
  EXPECT_FALSE(form.Has("location"));
  Reply json_form = Visit("/" + code, {{"Accept", "application/json"}});
  EXPECT_EQ(json_form.status, 401) << json_form.Describe();
  EXPECT_EQ(json_form.ErrorCode(), "password_required");
}

TEST_F(LinkOptionsTest, PreviewFetchersGetTheOpenGraphPagePeopleTheRedirect) {
  const json link = CreateLink({{"url", UniqueUrl()},
                                {"og",
                                 {{"title", "Spring <sale> & \"more\""},
                                  {"description", "d"},
                                  {"image", "https://example.com/card.png"}}}});
  const std::string code = Code(link);
  Reply preview = Visit(
      "/" + code, {{"User-Agent", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}});
  EXPECT_EQ(preview.status, 200) << preview.Describe();
  EXPECT_NE(preview.body.find("og:title\" content=\"Spring &lt;sale&gt; &amp; &quot;more&quot;\""),
            std::string::npos)
      << preview.body;
  EXPECT_EQ(preview.body.find("<sale>"), std::string::npos) << preview.body;
  EXPECT_NE(preview.body.find("og:image\" content=\"https://example.com/card.png\""),
            std::string::npos);
  EXPECT_NE(preview.body.find("twitter:card"), std::string::npos);
  Reply person = Visit("/" + code, {{"User-Agent", kChrome}});
  EXPECT_EQ(person.status, 301) << person.Describe();
  EXPECT_EQ(person.Header("location"), link["url"]);
}

// Targeting rules and weighted variants, with clients located in the test GeoIP database behind
// a trusted proxy (81.2.69.0/24 GB, 89.160.20.0/24 SE, 2001:db8::/32 DE; see analytics_test).
class TargetingTest : public KurzTest {
 protected:
  static std::string Code(const json& link) { return link["code"].get<std::string>(); }
  std::vector<std::string> ExtraArgs() const override {
    return {"--geoip", std::string(KURZ_TEST_MMDB_DIR) + "/test-city.mmdb", "--trusted-proxies",
            "127.0.0.1/32, ::1"};
  }
  std::string From(const std::string& code, const std::string& ip, const std::string& ua,
                   const std::string& language = "en-US,en;q=0.9") {
    Reply reply = Visit(
        "/" + code, {{"X-Forwarded-For", ip}, {"User-Agent", ua}, {"Accept-Language", language}});
    EXPECT_TRUE(reply.status == 301 || reply.status == 302) << reply.Describe();
    return reply.Header("location");
  }
};

constexpr const char* kIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
constexpr const char* kAndroidPhone =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0 Mobile Safari/537.36";

TEST_F(TargetingTest, TheFirstRuleWhoseEveryConditionHoldsWins) {
  const std::string fallback = UniqueUrl("fallback");
  const json link =
      CreateLink({{"url", fallback},
                  {"rules",
                   {{{"if", {{"country", {"SE", "DE"}}, {"device", {"mobile"}}}},
                     {"url", "https://m.example.se/"}},
                    {{"if", {{"os", {"iOS"}}}}, {"url", "https://apps.apple.com/app/id1"}},
                    {{"if", {{"language", {"fr"}}}}, {"url", "https://example.fr/"}}}}});
  const std::string code = Code(link);
  EXPECT_EQ(From(code, "89.160.20.202", kAndroidPhone), "https://m.example.se/");
  EXPECT_EQ(From(code, "2001:db8::7", kIphone), "https://m.example.se/");  // rule 1 before 2
  EXPECT_EQ(From(code, "81.2.69.10", kIphone), "https://apps.apple.com/app/id1");
  EXPECT_EQ(From(code, "89.160.20.202", kChrome), fallback);  // SE but a desktop
  EXPECT_EQ(From(code, "81.2.69.10", kChrome, "fr-FR,fr;q=0.9"), "https://example.fr/");
  EXPECT_EQ(From(code, "81.2.69.10", kChrome, "en,fr;q=0"), fallback);  // q=0 refuses
  EXPECT_EQ(From(code, "10.1.2.3", kAndroidPhone), fallback);           // unknown country
  // Its answer depends on the visitor: no shared cache may keep it.
  Reply reply = Visit("/" + code);
  EXPECT_EQ(reply.Header("cache-control"), "private, no-store");
}

TEST_F(TargetingTest, TimeRulesFollowTheClock) {
  const std::string fallback = UniqueUrl("later");
  const json link =
      CreateLink({{"url", fallback},
                  {"rules",
                   {{{"if", {{"before", UtcTimestamp(3600)}}}, {"url", "https://early.example/"}},
                    {{"if", {{"after", UtcTimestamp(7200)}}}, {"url", "https://late.example/"}}}}});
  EXPECT_EQ(From(Code(link), "81.2.69.10", kChrome), "https://early.example/");
}

TEST_F(TargetingTest, VariantsSplitByWeightAndStickToAVisitor) {
  const json link = CreateLink({{"url", UniqueUrl()},
                                {"variants",
                                 {{{"url", "https://a.example/"}, {"weight", 70}},
                                  {{"url", "https://b.example/"}, {"weight", 30}}}}});
  const std::string code = Code(link);
  int a = 0;
  int b = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string ip = "2001:db8::" + std::to_string(i + 1);
    const std::string first = From(code, ip, kChrome);
    EXPECT_EQ(From(code, ip, kChrome), first) << "the same visitor, the same variant";
    if (first == "https://a.example/") ++a;
    if (first == "https://b.example/") ++b;
  }
  EXPECT_EQ(a + b, 200);
  // 70/30 of 200 visitors; a fair split cannot land outside this (binomial, > 5 sigma).
  EXPECT_GT(a, 105) << a << " / " << b;
  EXPECT_GT(b, 25) << a << " / " << b;
  // PATCH can take the variants away again.
  ASSERT_EQ(Admin().Patch("/v1/urls/" + code, {{"variants", nullptr}}).status, 200);
  EXPECT_EQ(From(code, "2001:db8::1", kChrome), link["url"]);
}

TEST_F(TargetingTest, OsConditionsTakeTheStatsSpellingsToo) {
  const json link =
      CreateLink({{"url", UniqueUrl()},
                  {"rules", {{{"if", {{"os", {"Mac OS X"}}}}, {"url", "https://mac.example/"}}}}});
  const char* safari_mac =
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.5 Safari/605.1.15";
  EXPECT_EQ(From(Code(link), "81.2.69.10", safari_mac), "https://mac.example/");
  EXPECT_EQ(link["rules"][0]["if"]["os"][0], "macOS");
}

// --well-known-dir: app-link documents for phones.
class WellKnownTest : public KurzTest {
 protected:
  WellKnownTest() {
    std::ofstream(dir_.path() / "apple-app-site-association")
        << R"({"applinks":{"details":[{"appIDs":["T.com.example"],"components":[{"/":"/*"}]}]}})";
  }
  std::vector<std::string> ExtraArgs() const override {
    return {"--well-known-dir", dir_.path().string()};
  }
  TempDir dir_{"kurz-well-known"};
};

TEST_F(WellKnownTest, ServesTheDocumentsThatAreThereAnd404TheOthers) {
  Reply apple = Visit("/.well-known/apple-app-site-association");
  EXPECT_EQ(apple.status, 200) << apple.Describe();
  EXPECT_EQ(apple.Header("content-type"), "application/json");
  EXPECT_EQ(apple.Header("cache-control"), "public, max-age=3600");
  EXPECT_EQ(apple.Json()["applinks"]["details"][0]["appIDs"][0], "T.com.example");
  Reply android = Visit("/.well-known/assetlinks.json");
  EXPECT_EQ(android.status, 404) << android.Describe();
  EXPECT_EQ(android.ErrorCode(), "not_found");
}

}  // namespace
}  // namespace kurz::testing
