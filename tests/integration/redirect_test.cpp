// The redirect path: GET/HEAD /{code} (API.md "Redirect").

#include <chrono>
#include <string>
#include <thread>

#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

class RedirectTest : public KurzTest {};

TEST_F(RedirectTest, DefaultIs301WithLocationAndPublicCaching) {
  const std::string url = "https://example.com/landing?utm=a&b=%20c#frag";
  const std::string code = CreateLink({{"url", url}})["code"];
  Reply reply = Visit("/" + code);
  EXPECT_EQ(reply.status, 301) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), url) << reply.Describe();
  EXPECT_EQ(reply.Header("cache-control"), "public, max-age=3600") << reply.Describe();
  EXPECT_TRUE(reply.body.empty()) << reply.Describe();
  EXPECT_FALSE(reply.Header("x-request-id").empty()) << reply.Describe();
}

TEST_F(RedirectTest, TemporaryRedirectsAreNotCachedPublicly) {
  for (int type : {302, 307}) {
    const std::string url = UniqueUrl();
    const std::string code = CreateLink({{"url", url}, {"redirect_type", type}})["code"];
    Reply reply = Visit("/" + code);
    EXPECT_EQ(reply.status, type) << reply.Describe();
    EXPECT_EQ(reply.Header("location"), url) << reply.Describe();
    EXPECT_EQ(reply.Header("cache-control"), "private, max-age=0") << reply.Describe();
    EXPECT_TRUE(reply.body.empty()) << reply.Describe();
  }
}

TEST_F(RedirectTest, CustomCodeRedirects) {
  const std::string url = UniqueUrl();
  CreateLink({{"url", url}, {"custom_code", "Spring_Sale-26"}});
  Reply reply = Visit("/Spring_Sale-26");
  EXPECT_EQ(reply.status, 301) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), url) << reply.Describe();
}

TEST_F(RedirectTest, CodesAreCaseSensitive) {
  CreateLink({{"url", UniqueUrl()}, {"custom_code", "CaseCode"}});
  Reply reply = Visit("/casecode");
  EXPECT_EQ(reply.status, 404) << reply.Describe();
}

TEST_F(RedirectTest, HeadAnswersLikeGetWithoutBody) {
  const std::string url = UniqueUrl();
  const std::string code = CreateLink({{"url", url}, {"redirect_type", 302}})["code"];
  Reply reply = Call(port(), "HEAD", "/" + code);
  EXPECT_EQ(reply.status, 302) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), url) << reply.Describe();
  EXPECT_EQ(reply.Header("cache-control"), "private, max-age=0") << reply.Describe();
  EXPECT_TRUE(reply.body.empty()) << reply.Describe();
}

TEST_F(RedirectTest, HeadOfAnUnknownCodeIs404WithoutBody) {
  Reply reply = Call(port(), "HEAD", "/NoSuch1");
  EXPECT_EQ(reply.status, 404) << reply.Describe();
  EXPECT_EQ(reply.Header("cache-control"), "no-store") << reply.Describe();
  EXPECT_TRUE(reply.body.empty()) << reply.Describe();
}

TEST_F(RedirectTest, QueryStringIsIgnored) {
  const std::string url = "https://example.com/target?keep=1";
  const std::string code = CreateLink({{"url", url}})["code"];
  Reply reply = Visit("/" + code + "?x=1&utm_source=mail");
  EXPECT_EQ(reply.status, 301) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), url) << reply.Describe();
}

TEST_F(RedirectTest, LocationIsTheAsciiFormOfAnInternationalUrl) {
  const std::string url =
      "https://b\xC3\xBC"
      "cher.example/wiki/Stra\xC3\x9F"
      "e";
  const std::string code = CreateLink({{"url", url}})["code"];
  Reply reply = Visit("/" + code);
  EXPECT_EQ(reply.status, 301) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), "https://xn--bcher-kva.example/wiki/Stra%C3%9Fe")
      << reply.Describe();
}

TEST_F(RedirectTest, NonAsciiQueryIsPercentEncoded) {
  const std::string url = "https://example.com/search?q=caf\xC3\xA9";
  const std::string code = CreateLink({{"url", url}})["code"];
  Reply reply = Visit("/" + code);
  EXPECT_EQ(reply.status, 301) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), "https://example.com/search?q=caf%C3%A9") << reply.Describe();
}

TEST_F(RedirectTest, UnknownCodeIs404HtmlAndNotCached) {
  Reply reply = Visit("/NoSuch1");
  EXPECT_EQ(reply.status, 404) << reply.Describe();
  EXPECT_TRUE(reply.Header("content-type").starts_with("text/html")) << reply.Describe();
  EXPECT_EQ(reply.Header("cache-control"), "no-store") << reply.Describe();
  EXPECT_FALSE(reply.body.empty()) << reply.Describe();
  EXPECT_FALSE(reply.Has("location")) << reply.Describe();
  EXPECT_FALSE(reply.Header("x-request-id").empty()) << reply.Describe();
}

TEST_F(RedirectTest, UnknownCodeIs404JsonWhenAsked) {
  Reply reply = Visit("/NoSuch1", {{"Accept", "text/html;q=0.5, application/json"}});
  EXPECT_EQ(reply.status, 404) << reply.Describe();
  EXPECT_TRUE(reply.Header("content-type").starts_with("application/json")) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "not_found") << reply.Describe();
  EXPECT_EQ(reply.Header("cache-control"), "no-store") << reply.Describe();
}

TEST_F(RedirectTest, MalformedCodesAre404) {
  for (const char* path : {"/a", "/this-code-is-far-too-long-to-be-a-short-code-at-all",
                           "/bad%20code", "/a.b", "/%C3%A9t%C3%A9"}) {
    Reply reply = Visit(path);
    EXPECT_EQ(reply.status, 404) << path << ": " << reply.Describe();
  }
}

TEST_F(RedirectTest, DeletedLinkIs410AtOnceEvenWhenCached) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  // Warm whatever caches the server has.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Visit("/" + code).status, 301);
  Expect(Admin().Delete("/v1/urls/" + code), 204, "DELETE");

  Reply html = Visit("/" + code);
  EXPECT_EQ(html.status, 410) << html.Describe();
  EXPECT_TRUE(html.Header("content-type").starts_with("text/html")) << html.Describe();
  EXPECT_EQ(html.Header("cache-control"), "no-store") << html.Describe();
  EXPECT_FALSE(html.Has("location")) << html.Describe();

  Reply as_json = Visit("/" + code, {{"Accept", "application/json"}});
  EXPECT_EQ(as_json.status, 410) << as_json.Describe();
  EXPECT_EQ(as_json.ErrorCode(), "gone") << as_json.Describe();
  EXPECT_EQ(as_json.Header("cache-control"), "no-store") << as_json.Describe();
}

TEST_F(RedirectTest, ExpiredLinkIs410) {
  const std::string code =
      CreateLink({{"url", UniqueUrl()}, {"expires_in", 1}, {"redirect_type", 302}})["code"];
  EXPECT_EQ(Visit("/" + code).status, 302);  // also caches it, if the server caches
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  Reply reply = Visit("/" + code, {{"Accept", "application/json"}});
  EXPECT_EQ(reply.status, 410) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "gone") << reply.Describe();
}

TEST_F(RedirectTest, LinkCreatedAfterA404RedirectsAtOnce) {
  // Cache the miss as hard as the server will.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Visit("/fresh-code").status, 404);
  const std::string url = UniqueUrl();
  CreateLink({{"url", url}, {"custom_code", "fresh-code"}});
  Reply reply = Visit("/fresh-code");
  EXPECT_EQ(reply.status, 301) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), url) << reply.Describe();
}

TEST_F(RedirectTest, ReservedPathsAreNotRedirects) {
  for (const char* path : {"/favicon.ico", "/robots.txt"}) {
    Reply reply = Visit(path);
    EXPECT_NE(reply.status, 301) << path << ": " << reply.Describe();
    EXPECT_FALSE(reply.Has("location")) << path << ": " << reply.Describe();
  }
}

TEST_F(RedirectTest, RedirectNeedsNoCredentialsAndIgnoresBadOnes) {
  const std::string url = UniqueUrl();
  const std::string code = CreateLink({{"url", url}})["code"];
  Reply reply = Visit("/" + code, {{"Authorization", "Bearer not-a-key"}});
  EXPECT_EQ(reply.status, 301) << reply.Describe();
  EXPECT_EQ(reply.Header("location"), url);
}

}  // namespace
}  // namespace kurz::testing
