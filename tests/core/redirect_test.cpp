#include "core/redirect.hpp"

#include <gtest/gtest.h>

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
                        Case{RedirectType::k307, 307, "private, max-age=0"}}) {
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
  const RedirectRequest browser{.accept = kBrowserAccept};
  const RedirectRequest client{.accept = "application/json"};

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
  const RedirectRequest mixed{.accept = "text/plain, application/json;q=0.9"};
  EXPECT_EQ(Answer(InState(LinkState::kGone), kNow, mixed).content_type, "application/json");
}

TEST(AnswerRedirectTest, AcceptDoesNotChangeARedirect) {
  const RedirectAnswer a =
      Answer(Active(RedirectType::k307), kNow, RedirectRequest{.accept = "application/json"});
  EXPECT_EQ(a.status, 307);
  EXPECT_TRUE(a.content_type.empty());
  EXPECT_TRUE(a.body.empty());
}

TEST(AnswerRedirectTest, HeadAnswersAsGetAndIsAClickToo) {
  for (const ResolvedLink& link :
       {Active(RedirectType::k301), Active(RedirectType::k307), InState(LinkState::kGone),
        InState(LinkState::kNotFound), Active(RedirectType::k302, kNow)}) {
    const RedirectAnswer get = Answer(link, kNow, {.head = false, .accept = kBrowserAccept});
    const RedirectAnswer head = Answer(link, kNow, {.head = true, .accept = kBrowserAccept});
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

}  // namespace
}  // namespace kurz::core
