// Password links through HTTP against a real kurz (embedded, and again in cluster mode on
// PostgreSQL and Redis): the form, POST /{code} right and wrong, the failure limit, the refusals
// of bad forms, and the clicks recorded.
#include <string>

#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

constexpr std::string_view kForm = "application/x-www-form-urlencoded";

class PasswordTest : public KurzTest {
 protected:
  std::string NewPasswordLink(json extra = json::object()) {
    json body = {{"url", UniqueUrl()}, {"password", "correct horse"}};
    body.update(extra);
    return CreateLink(body)["code"].get<std::string>();
  }
  Reply Submit(const std::string& code, std::string_view body, const HeaderList& extra = {}) {
    return Anonymous().Send("POST", "/" + code, body, kForm, extra);
  }
};

TEST_F(PasswordTest, TheRightPasswordAnswersTheRedirectAndRecordsOneClick) {
  const json link =
      CreateLink({{"url", UniqueUrl()}, {"password", "correct horse"}, {"redirect_type", 302}});
  const std::string code = link["code"];
  EXPECT_EQ(Visit("/" + code).status, 200);  // the form: no click
  const Reply a = Submit(code, "password=correct+horse");
  EXPECT_EQ(a.status, 302) << a.Describe();
  EXPECT_EQ(a.Header("location"), link["url"].get<std::string>());
  EXPECT_EQ(a.Header("cache-control"), "no-store");
  const json stats = WaitForClicks(Admin(), code, 1);
  EXPECT_EQ(stats["total_clicks"], 1) << stats;
}

TEST_F(PasswordTest, AWrongPasswordAnswersTheFormAgainWith401) {
  const std::string code = NewPasswordLink();
  const Reply a = Submit(code, "password=wrong+horse");
  EXPECT_EQ(a.status, 401) << a.Describe();
  EXPECT_TRUE(a.Header("content-type").starts_with("text/html")) << a.Describe();
  EXPECT_NE(a.body.find("role=\"alert\""), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("action=\"/" + code + "\""), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("autocomplete=\"current-password\""), std::string::npos);
  EXPECT_FALSE(a.Has("location"));
  EXPECT_EQ(a.Header("cache-control"), "no-store");
  const Reply j = Submit(code, "password=wrong", {{"Accept", "application/json"}});
  EXPECT_EQ(j.status, 401);
  EXPECT_EQ(j.ErrorCode(), "password_required");
}

TEST_F(PasswordTest, TheSixthWrongTryInAMinuteIs429AndTheRightOneWaitsToo) {
  const std::string code = NewPasswordLink();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Submit(code, "password=guess" + std::to_string(i)).status, 401) << "try " << i + 1;
  }
  const Reply refused = Submit(code, "password=guess6");
  EXPECT_EQ(refused.status, 429) << refused.Describe();
  EXPECT_EQ(refused.ErrorCode(), "rate_limited");
  const int retry = std::stoi(refused.Header("retry-after"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(Submit(code, "password=correct+horse").status, 429);
  // Another link of the same client is not held back.
  EXPECT_EQ(Submit(NewPasswordLink(), "password=correct+horse").status, 301);
}

TEST_F(PasswordTest, BadFormsAreRefusedWithJsonErrors) {
  const std::string code = NewPasswordLink();
  const Reply json_body =
      Anonymous().Send("POST", "/" + code, R"({"password":"correct horse"})", "application/json");
  EXPECT_EQ(json_body.status, 415) << json_body.Describe();
  EXPECT_EQ(json_body.ErrorCode(), "unsupported_media_type");
  const Reply big = Submit(code, "password=x&pad=" + std::string(5000, 'p'));
  EXPECT_EQ(big.status, 413) << big.Describe();
  EXPECT_EQ(big.ErrorCode(), "payload_too_large");
  for (const std::string body : {"", "user=x", "password=%zz"}) {
    const Reply a = Submit(code, body);
    EXPECT_EQ(a.status, 400) << "'" << body << "': " << a.Describe();
    EXPECT_EQ(a.ErrorCode(), "invalid_argument");
  }
  // None of these was a try: the right password still goes through.
  EXPECT_EQ(Submit(code, "password=correct+horse").status, 301);
}

TEST_F(PasswordTest, UnknownDeletedAndPlainLinks) {
  EXPECT_EQ(Submit("nosuchlink", "password=x").status, 404);
  const std::string code = NewPasswordLink();
  ASSERT_EQ(Admin().Delete("/v1/urls/" + code).status, 204);
  const Reply gone = Submit(code, "password=correct+horse");
  EXPECT_EQ(gone.status, 410) << gone.Describe();
  const std::string plain = CreateLink({{"url", UniqueUrl()}})["code"];
  const Reply a = Submit(plain, "password=x");
  EXPECT_EQ(a.status, 405) << a.Describe();
  EXPECT_EQ(a.Header("allow"), "GET, HEAD");
}

}  // namespace
}  // namespace kurz::testing
