// Password links through the API in process (tests/http/password_link_harness.hpp): the form on
// GET, POST /{code} with the right and wrong passwords, the failure limit, and every refusal of
// a bad form.
#include <gtest/gtest.h>

#include "http/password_link_harness.hpp"

namespace kurz::http::testing {
namespace {

class PasswordLinkTest : public ::testing::Test, public PasswordLinkHarness {};

TEST_F(PasswordLinkTest, GetAnswersTheFormAndJsonClients401) {
  const std::string code = Create({{"password", "correct horse"}});
  const Answer form = Visit("/" + code);
  EXPECT_EQ(form.status, 200) << form.Describe();
  EXPECT_EQ(form.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(form.Header("Cache-Control"), "no-store");
  EXPECT_NE(form.body.find("action=\"/" + code + "\""), std::string::npos) << form.body;
  EXPECT_NE(form.body.find("name=\"password\""), std::string::npos);
  EXPECT_EQ(form.body.find("role=\"alert\""), std::string::npos);
  EXPECT_TRUE(form.Header("Content-Security-Policy")->starts_with("default-src 'none'"));
  EXPECT_FALSE(form.Header("Location"));
  const Answer json_form = Visit("/" + code, "application/json");
  EXPECT_EQ(json_form.status, 401);
  EXPECT_EQ(json_form.ErrorCode(), "password_required");
  EXPECT_EQ(clicks_.pushed(), 0U);  // no click until the redirect is answered
}

TEST_F(PasswordLinkTest, TheRightPasswordAnswersTheLinksRedirectAndRecordsOneClick) {
  const std::string code = Create({{"password", "correct horse"}, {"redirect_type", 302}});
  const Answer a = Post(code, "password=correct+horse");
  EXPECT_EQ(a.status, 302) << a.Describe();
  EXPECT_EQ(a.Header("Location"), "https://example.com/secret");
  EXPECT_EQ(a.Header("Cache-Control"), "no-store");
  EXPECT_EQ(clicks_.pushed(), 1U);
  // Its own status, whichever it is.
  const std::string permanent = Create({{"password", "correct horse"}, {"redirect_type", 301}});
  EXPECT_EQ(Post(permanent, "password=correct%20horse").status, 301);
  EXPECT_EQ(clicks_.pushed(), 2U);
}

TEST_F(PasswordLinkTest, AWrongPasswordAnswersTheFormAgainWith401AndNoClick) {
  const std::string code = Create({{"password", "correct horse"}});
  const Answer a = Post(code, "password=wrong+horse");
  EXPECT_EQ(a.status, 401) << a.Describe();
  EXPECT_EQ(a.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(a.Header("Cache-Control"), "no-store");
  EXPECT_NE(a.body.find("role=\"alert\""), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("action=\"/" + code + "\""), std::string::npos);
  EXPECT_FALSE(a.Header("Location"));
  EXPECT_EQ(a.Header("WWW-Authenticate"), std::nullopt);  // not an API credential
  const Answer j = Post(code, "password=wrong", 1, "application/json");
  EXPECT_EQ(j.status, 401);
  EXPECT_EQ(j.ErrorCode(), "password_required");
  EXPECT_EQ(Post(code, "password=").status, 401);
  EXPECT_EQ(clicks_.pushed(), 0U);
}

TEST_F(PasswordLinkTest, MoreThanFiveWrongTriesAMinuteAre429UntilTheMinuteHasPassed) {
  const std::string code = Create({{"password", "correct horse"}});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Post(code, "password=guess" + std::to_string(i)).status, 401) << "try " << i + 1;
  }
  clock_.Advance(10 * kSecond);
  const Answer refused = Post(code, "password=guess6");
  EXPECT_EQ(refused.status, 429) << refused.Describe();
  EXPECT_EQ(refused.ErrorCode(), "rate_limited");
  EXPECT_EQ(refused.Header("Retry-After"), "50");
  // Refused before it is checked: even the right password is not let in now.
  EXPECT_EQ(Post(code, "password=correct+horse").status, 429);
  EXPECT_EQ(clicks_.pushed(), 0U);
  // Another client, and another link from the same client, are not held back.
  EXPECT_EQ(Post(code, "password=correct+horse", 2).status, 301);
  const std::string other = Create({{"password", "correct horse"}});
  EXPECT_EQ(Post(other, "password=correct+horse").status, 301);
  // The minute over, the right password works again.
  clock_.Advance(50 * kSecond);
  EXPECT_EQ(Post(code, "password=correct+horse").status, 301);
}

TEST_F(PasswordLinkTest, RightTriesDoNotCountTowardsTheLimit) {
  const std::string code = Create({{"password", "correct horse"}});
  for (int i = 0; i < 8; ++i) EXPECT_EQ(Post(code, "password=correct+horse").status, 301);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Post(code, "password=nope").status, 401);
  EXPECT_EQ(Post(code, "password=nope").status, 429);
  EXPECT_EQ(clicks_.pushed(), 8U);
}

TEST_F(PasswordLinkTest, PasswordsAreReadAsUtf8FormValues) {
  const std::string code = Create({{"password", "p\xC3\xA4ss & w=rd+%"}});
  EXPECT_EQ(Post(code, "password=p%C3%A4ss+%26+w%3Drd%2B%25").status, 301);
  EXPECT_EQ(Post(code, "other=1&password=p%C3%A4ss+%26+w%3Drd%2B%25&x=").status, 301);
  EXPECT_EQ(Post(code, "password=p%C3%A4ss & w=rd+%25").status, 401);  // '+' is a space
}

TEST_F(PasswordLinkTest, BadFormsAreRefusedWithJsonErrors) {
  const std::string code = Create({{"password", "correct horse"}});
  const auto post = [&](std::string content_type, std::string body) {
    return Send({.method = Method::kPost,
                 .target = "/" + code,
                 .content_type = std::move(content_type),
                 .body = std::move(body)});
  };
  for (const std::string type : {"application/json", "text/plain", "multipart/form-data", ""}) {
    const Answer a = post(type, "password=correct+horse");
    EXPECT_EQ(a.status, 415) << type;
    EXPECT_EQ(a.ErrorCode(), "unsupported_media_type") << type;
    EXPECT_EQ(a.Header("Content-Type"), "application/json");
  }
  EXPECT_EQ(
      post("Application/X-WWW-Form-Urlencoded; charset=UTF-8", "password=correct+horse").status,
      301);
  const Answer big =
      post(std::string(kForm), "password=correct+horse&pad=" + std::string(4096, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.ErrorCode(), "payload_too_large");
  for (const std::string body : {"", "pass=correct", "password=%zz", "password=abc%"}) {
    const Answer a = post(std::string(kForm), body);
    EXPECT_EQ(a.status, 400) << "'" << body << "'";
    EXPECT_EQ(a.ErrorCode(), "invalid_argument") << body;
  }
  EXPECT_EQ(clicks_.pushed(), 1U);  // the one right form above
}

TEST_F(PasswordLinkTest, UnknownAndDeletedLinksAnswerAsGetDoes) {
  EXPECT_EQ(Post("nosuchcode", "password=x").status, 404);
  EXPECT_EQ(Post("no.such!code", "password=x").status, 404);
  const std::string code = Create({{"password", "correct horse"}});
  const Answer deleted = Send(
      {.method = Method::kDelete, .target = "/v1/urls/" + code, .authorization = "Bearer " + key_});
  ASSERT_EQ(deleted.status, 204) << deleted.Describe();
  const Answer gone = Post(code, "password=correct+horse", 1, "application/json");
  EXPECT_EQ(gone.status, 410) << gone.Describe();
  EXPECT_EQ(gone.ErrorCode(), "gone");
}

TEST_F(PasswordLinkTest, APostToALinkWithoutAPasswordIs405) {
  const std::string code = Create({});
  const Answer a = Post(code, "password=anything");
  EXPECT_EQ(a.status, 405) << a.Describe();
  EXPECT_EQ(a.ErrorCode(), "method_not_allowed");
  EXPECT_EQ(a.Header("Allow"), "GET, HEAD");
  EXPECT_EQ(clicks_.pushed(), 0U);
  EXPECT_EQ(Visit("/" + code).status, 301);  // GET is unchanged
}

TEST_F(PasswordLinkTest, TheQueryOfTheShortUrlSurvivesTheFormForForwardQuery) {
  const std::string code = Create({{"password", "correct horse"}, {"forward_query", true}});
  const Answer form = Visit("/" + code + "?utm_source=mail&x=1");
  EXPECT_NE(form.body.find("action=\"/" + code + "?utm_source=mail&amp;x=1\""), std::string::npos)
      << form.body;
  const Answer a = Send({.method = Method::kPost,
                         .target = "/" + code + "?utm_source=mail&x=1",
                         .content_type = std::string(kForm),
                         .body = "password=correct+horse"});
  EXPECT_EQ(a.status, 301) << a.Describe();
  EXPECT_EQ(a.Header("Location"), "https://example.com/secret?utm_source=mail&x=1");
}

TEST(PasswordLinkRedirectLimit, PostsCountAgainstThePerIpRedirectLimitToo) {
  // --rate-limit-redirect 3: a fourth request a second from one address is refused before any
  // form is read or password hashed.
  PasswordLinkHarness kurz(nullptr, 3);
  const std::string code = kurz.Create({{"password", "correct horse"}});
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    const Answer a = kurz.Post(code, "password=correct+horse");
    if (a.status == 429) {
      ++refused;
      EXPECT_TRUE(a.Header("Retry-After"));
    } else {
      EXPECT_EQ(a.status, 301) << a.Describe();
    }
  }
  EXPECT_GE(refused, 2);
}

}  // namespace
}  // namespace kurz::http::testing
