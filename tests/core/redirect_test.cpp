#include "core/redirect.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <memory>
#include <string>

namespace kurz::core {
namespace {

constexpr Micros kNow = 1'764'000'000'000'000;
constexpr std::string_view kBrowserAccept =
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

ResolvedLink Active(RedirectType status, Micros expires_at = 0) {
  ResolvedLink link;
  link.state = LinkState::kActive;
  link.status = status;
  link.location = "https://xn--bcher-kva.example/wiki/Stra%C3%9Fe";
  link.expires_at = expires_at;
  link.owner_id = 7;
  return link;
}

ResolvedLink InState(LinkState state) {
  ResolvedLink link;
  link.state = state;
  link.owner_id = 7;
  return link;
}

// A request with these facts (the rest default).
RedirectRequest Req(std::string_view accept = {}, std::string_view user_agent = {},
                    bool head = false, bool password_verified = false) {
  RedirectRequest r;
  r.head = head;
  r.accept = accept;
  r.user_agent = user_agent;
  r.password_verified = password_verified;
  return r;
}

RedirectAnswer Answer(const ResolvedLink& link, Micros now = kNow, RedirectRequest request = {}) {
  return AnswerRedirect(link.View(), now, request);
}

TEST(AnswerRedirectTest, ActiveLinkRedirectsToItsLocationAndIsAClick) {
  const ResolvedLink link = Active(RedirectType::k301);
  const RedirectAnswer a = Answer(link);
  EXPECT_EQ(a.status, 301);
  EXPECT_EQ(a.location, link.location);
  EXPECT_EQ(a.location.data(), link.location.data()) << "a view into the value, not a copy";
  EXPECT_TRUE(a.record_click);
  EXPECT_TRUE(a.content_type.empty());
  EXPECT_TRUE(a.body.empty()) << "redirects have an empty body";
}

TEST(AnswerRedirectTest, EachRedirectStatusIsAnsweredWithItsOwnCacheControl) {
  // API.md "Redirect": 301 may be kept by edges for the seed's CDN TTL, 302/307 never.
  struct Case {
    RedirectType type;
    int status;
    std::string_view cache_control;
  };
  for (const Case& c : {Case{RedirectType::k301, 301, "public, max-age=3600"},
                        Case{RedirectType::k302, 302, "private, max-age=0"},
                        Case{RedirectType::k307, 307, "private, max-age=0"},
                        Case{RedirectType::k308, 308, "public, max-age=3600"}}) {
    const RedirectAnswer a = Answer(Active(c.type));
    EXPECT_EQ(a.status, c.status);
    EXPECT_EQ(a.CacheControl(), c.cache_control) << c.status;
    EXPECT_TRUE(a.record_click) << c.status;
  }
}

TEST(AnswerRedirectTest, UnknownCodeIs404NoStoreAndNoClick) {
  const RedirectAnswer a = Answer(InState(LinkState::kNotFound));
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.CacheControl(), "no-store")
      << "an edge must not keep answering 404 for a code created a moment later";
  EXPECT_FALSE(a.record_click);
  EXPECT_TRUE(a.location.empty());
}

TEST(AnswerRedirectTest, GoneLinkIs410NoStoreAndNoClick) {
  const RedirectAnswer a = Answer(InState(LinkState::kGone));
  EXPECT_EQ(a.status, 410);
  EXPECT_EQ(a.CacheControl(), "no-store");
  EXPECT_FALSE(a.record_click);
  EXPECT_TRUE(a.location.empty());
}

TEST(AnswerRedirectTest, DefaultViewIsNotFound) {
  // What the redirect path answers for a path that cannot be a code.
  EXPECT_EQ(AnswerRedirect({}, kNow, {}).status, 404);
}

TEST(AnswerRedirectTest, ExpiryIsGoneFromTheInstantItself) {
  const ResolvedLink link = Active(RedirectType::k302, kNow);
  const RedirectAnswer before = Answer(link, kNow - 1);
  EXPECT_EQ(before.status, 302);
  EXPECT_TRUE(before.record_click);

  const RedirectAnswer at = Answer(link, kNow);
  EXPECT_EQ(at.status, 410) << "expires_at == now is gone";
  EXPECT_EQ(at.CacheControl(), "no-store");
  EXPECT_FALSE(at.record_click);
  EXPECT_TRUE(at.location.empty()) << "an expired link must not leak its target";

  EXPECT_EQ(Answer(link, kNow + 1).status, 410);
}

TEST(AnswerRedirectTest, ZeroExpiryNeverExpires) {
  EXPECT_EQ(Answer(Active(RedirectType::k301, 0), std::numeric_limits<Micros>::max()).status, 301);
}

TEST(AnswerRedirectTest, ExpiryDoesNotTurnGoneOrNotFoundIntoSomethingElse) {
  ResolvedLink gone = InState(LinkState::kGone);
  gone.expires_at = kNow + 1'000'000;
  EXPECT_EQ(Answer(gone).status, 410);
  ResolvedLink missing = InState(LinkState::kNotFound);
  missing.expires_at = kNow - 1;
  EXPECT_EQ(Answer(missing).status, 404);
}

TEST(AnswerRedirectTest, MissingPagesAreHtmlForBrowsersAndJsonWhenAskedFor) {
  const RedirectRequest browser = Req(kBrowserAccept);
  const RedirectRequest client = Req("application/json");

  const RedirectAnswer nf_html = Answer(InState(LinkState::kNotFound), kNow, browser);
  EXPECT_EQ(nf_html.content_type, "text/html; charset=utf-8");
  EXPECT_NE(nf_html.body.find("Link not found"), std::string_view::npos);
  const RedirectAnswer nf_json = Answer(InState(LinkState::kNotFound), kNow, client);
  EXPECT_EQ(nf_json.content_type, "application/json");
  EXPECT_EQ(nf_json.body, R"({"error":{"code":"not_found","message":"no link with this code"}})");

  const RedirectAnswer gone_html = Answer(InState(LinkState::kGone), kNow, browser);
  EXPECT_EQ(gone_html.content_type, "text/html; charset=utf-8");
  EXPECT_NE(gone_html.body.find("Link gone"), std::string_view::npos);
  const RedirectAnswer gone_json = Answer(InState(LinkState::kGone), kNow, client);
  EXPECT_EQ(gone_json.content_type, "application/json");
  EXPECT_EQ(gone_json.body,
            R"({"error":{"code":"gone","message":"this link was deleted or has expired"}})");

  // Expired answers like gone, in both forms.
  EXPECT_EQ(Answer(Active(RedirectType::k301, kNow), kNow, client).body, gone_json.body);
  EXPECT_EQ(Answer(Active(RedirectType::k301, kNow), kNow, {}).content_type,
            "text/html; charset=utf-8")
      << "no Accept header: the page for people";
  // application/json among other types counts too.
  const RedirectRequest mixed = Req("text/plain, application/json;q=0.9");
  EXPECT_EQ(Answer(InState(LinkState::kGone), kNow, mixed).content_type, "application/json");
}

TEST(AnswerRedirectTest, AcceptDoesNotChangeARedirect) {
  const RedirectAnswer a = Answer(Active(RedirectType::k307), kNow, Req("application/json"));
  EXPECT_EQ(a.status, 307);
  EXPECT_TRUE(a.content_type.empty());
  EXPECT_TRUE(a.body.empty());
}

TEST(AnswerRedirectTest, HeadAnswersAsGetAndIsAClickToo) {
  for (const ResolvedLink& link :
       {Active(RedirectType::k301), Active(RedirectType::k307), InState(LinkState::kGone),
        InState(LinkState::kNotFound), Active(RedirectType::k302, kNow)}) {
    const RedirectAnswer get = Answer(link, kNow, Req(kBrowserAccept));
    const RedirectAnswer head = Answer(link, kNow, Req(kBrowserAccept, {}, true));
    EXPECT_EQ(head.status, get.status);
    EXPECT_EQ(head.location, get.location);
    EXPECT_EQ(head.CacheControl(), get.CacheControl());
    EXPECT_EQ(head.content_type, get.content_type) << "HEAD sends GET's headers";
    EXPECT_EQ(head.record_click, get.record_click) << "API.md: every answered redirect is a click";
  }
}

TEST(AnswerRedirectTest, ValueCopiesCompareByContent) {
  ResolvedLink a = Active(RedirectType::k301, kNow);
  ResolvedLink b = a;
  EXPECT_EQ(a, b);
  b.options = std::make_shared<const LinkOptions>();
  EXPECT_NE(a, b) << "a link with options is not the plain one";
  a.options = std::make_shared<const LinkOptions>();
  EXPECT_EQ(a, b) << "equal blocks at different addresses";
  b.owner_id = 8;
  EXPECT_NE(a, b);
}

// Links with options (API.md "Link options beyond the seed").

ResolvedLink WithOptions(const std::function<void(LinkOptions&)>& set,
                         RedirectType status = RedirectType::k301) {
  ResolvedLink link = Active(status);
  auto options = std::make_shared<LinkOptions>();
  set(*options);
  link.options = options;
  return link;
}

constexpr std::string_view kSlack = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
constexpr std::string_view kFirefox =
    "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0";

TEST(AnswerRedirectTest, APasswordAsksForTheFormAndRecordsNoClick) {
  const ResolvedLink link = WithOptions([](LinkOptions& o) { o.password_hash = "$argon2id$x"; });
  const RedirectAnswer form = Answer(link, kNow, Req(kBrowserAccept));
  EXPECT_EQ(form.step, RedirectStep::kPasswordForm);
  EXPECT_EQ(form.status, 200);
  EXPECT_FALSE(form.record_click);
  EXPECT_TRUE(form.location.empty());
  EXPECT_EQ(form.CacheControl(), "private, no-store");
  EXPECT_EQ(Answer(link, kNow, Req("application/json")).status, 401);
  // Once the password was checked, the redirect itself, private.
  const RedirectAnswer through = Answer(link, kNow, Req({}, {}, false, true));
  EXPECT_EQ(through.step, RedirectStep::kSend);
  EXPECT_EQ(through.status, 301);
  EXPECT_EQ(through.location, link.location);
  EXPECT_TRUE(through.record_click);
  EXPECT_EQ(through.CacheControl(), "private, no-store");
}

TEST(AnswerRedirectTest, PreviewFetchersGetThePreviewPeopleTheRedirect) {
  const ResolvedLink link = WithOptions([](LinkOptions& o) {
    o.og = OpenGraph{"t", "d", "https://x/i.png"};
  });
  const RedirectAnswer preview = Answer(link, kNow, Req({}, kSlack));
  EXPECT_EQ(preview.step, RedirectStep::kPreview);
  EXPECT_EQ(preview.status, 200);
  EXPECT_EQ(preview.CacheControl(), "private, no-store");
  const RedirectAnswer person = Answer(link, kNow, Req({}, kFirefox));
  EXPECT_EQ(person.step, RedirectStep::kSend);
  EXPECT_EQ(person.status, 301);
  EXPECT_EQ(person.CacheControl(), "public, max-age=3600") << "og alone is not personal";
  // Without og, a fetcher is redirected like anyone.
  EXPECT_EQ(
      Answer(WithOptions([](LinkOptions& o) { o.forward_query = true; }), kNow, Req({}, kSlack))
          .step,
      RedirectStep::kSend);
}

TEST(AnswerRedirectTest, ABudgetIsUsedBeforeTheRedirectAndMakesItPersonal) {
  const ResolvedLink link = WithOptions([](LinkOptions& o) { o.budget = true; });
  const RedirectAnswer a = Answer(link);
  EXPECT_EQ(a.step, RedirectStep::kUseBudget);
  EXPECT_EQ(a.status, 301);
  EXPECT_EQ(a.location, link.location);
  EXPECT_EQ(a.CacheControl(), "private, no-store");
}

TEST(AnswerRedirectTest, ForwardQueryIsLeftToTheCallerWithTheStatusPolicy) {
  const RedirectAnswer a =
      Answer(WithOptions([](LinkOptions& o) { o.forward_query = true; }, RedirectType::k302));
  EXPECT_EQ(a.step, RedirectStep::kSend);
  EXPECT_TRUE(a.forward_query);
  EXPECT_EQ(a.CacheControl(), "private, max-age=0");
}

TEST(AnswerRedirectTest, AnExpiredLinkWithExpiredUrlSendsPeopleThereElse410) {
  ResolvedLink link =
      WithOptions([](LinkOptions& o) { o.expired_location = "https://example.com/over"; });
  link.expires_at = kNow;
  const RedirectAnswer over = Answer(link);
  EXPECT_EQ(over.status, 302);
  EXPECT_EQ(over.location, "https://example.com/over");
  EXPECT_FALSE(over.record_click);
  EXPECT_EQ(over.CacheControl(), "no-store");
  link.options = std::make_shared<LinkOptions>();
  EXPECT_EQ(Answer(link).status, 410);
  // Before expiry, the destination.
  link.expires_at = kNow + 1;
  EXPECT_EQ(Answer(link).status, 301);
}

TEST(AnswerRedirectTest, AnswerOverIsTheExhaustedBudgetsAnswer) {
  LinkOptions with_url;
  with_url.expired_location = "https://example.com/sorry";
  EXPECT_EQ(AnswerOver(&with_url, {}).status, 302);
  EXPECT_EQ(AnswerOver(&with_url, {}).location, "https://example.com/sorry");
  LinkOptions without;
  const RedirectAnswer gone = AnswerOver(&without, Req("application/json"));
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(gone.body, kGoneJson);
}

TEST(IsPreviewFetcherTest, KnowsTheCommonFetchersCaseInsensitively) {
  for (std::string_view ua :
       {kSlack, std::string_view("facebookexternalhit/1.1"), std::string_view("Twitterbot/1.0"),
        std::string_view("LinkedInBot/1.0 (compatible; Mozilla/5.0)"),
        std::string_view("WhatsApp/2.23.20.0"),
        std::string_view("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"),
        std::string_view("TelegramBot (like TwitterBot)")}) {
    EXPECT_TRUE(IsPreviewFetcher(ua)) << ua;
  }
  for (std::string_view ua : {kFirefox, std::string_view(""), std::string_view("curl/8.0")}) {
    EXPECT_FALSE(IsPreviewFetcher(ua)) << ua;
  }
}

}  // namespace
}  // namespace kurz::core
