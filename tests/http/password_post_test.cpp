// Password links through the API in process (memory stores, the real argon2id hasher with cheap
// parameters, a fake clock): the form on GET, POST /{code} with the right and wrong passwords,
// the failure limit, and every refusal of a bad form.
#include <gtest/gtest.h>

// Calls name only the fields they set (designated initializers); the rest default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/argon2/argon2_hasher.hpp"
#include "adapters/memory/account_store.hpp"
#include "adapters/memory/click_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "http/api.hpp"
#include "ports/clock.hpp"
#include "service/account_service.hpp"
#include "service/code_allocator.hpp"
#include "service/link_service.hpp"

namespace kurz::http {
namespace {

using nlohmann::json;
constexpr core::Micros kT0 = 1'795'000'000LL * core::kMicrosPerSecond;
constexpr core::Micros kSecond = core::kMicrosPerSecond;

class MovableClock final : public ports::Clock {
 public:
  core::Micros Now() const override { return now_.load(); }
  void Advance(core::Micros by) { now_.fetch_add(by); }

 private:
  std::atomic<core::Micros> now_{kT0};
};

struct Answer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
  std::string ErrorCode() const {
    auto j = json::parse(body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
  std::string Describe() const { return std::to_string(status) + " " + body; }
};

class Capture final : public Responder,
                      public detail::DeferredTarget,
                      public std::enable_shared_from_this<Capture> {
 public:
  void Send(int status, std::span<const Header> headers, std::string_view body) override {
    std::lock_guard lock(mu_);
    answer_.status = status;
    for (const Header& h : headers) answer_.headers.emplace_back(h.name, h.value);
    answer_.body = body;
    done_ = true;
  }
  DeferredResponder Defer() override { return DeferredResponder(shared_from_this()); }
  void Complete(Response&& r) override {
    std::lock_guard lock(mu_);
    answer_.status = r.status;
    answer_.headers = std::move(r.headers);
    answer_.body = std::move(r.body);
    done_ = true;
    cv_.notify_all();
  }
  Answer Wait() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_; });
    return answer_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Answer answer_;
};

constexpr std::string_view kForm = "application/x-www-form-urlencoded";

class PasswordLinkTest : public ::testing::Test {
 protected:
  PasswordLinkTest() {
    links_.SetPasswordHasher(&hasher_);
    ApiDeps deps{links_, accounts_, clicks_store_, cache_, clicks_, clock_, workers_, {}, nullptr};
    deps.passwords = &hasher_;
    ApiOptions options;
    options.base_url = "https://sho.rt";
    api_ = std::make_unique<Api>(std::move(deps), options, 1);
    auto user = accounts_.CreateUser("alice@example.com", "free");
    EXPECT_TRUE(user);
    if (user) key_ = user->first_key.secret;
  }

  struct Call {
    Method method = Method::kGet;
    std::string target;
    std::string content_type;
    std::string body;
    std::string accept;
    std::string authorization;
    std::uint8_t peer = 1;  // the last byte of the client's address
  };

  Answer Send(const Call& c) {
    Request req;
    req.method = c.method;
    req.method_text = c.method == Method::kPost     ? "POST"
                      : c.method == Method::kDelete ? "DELETE"
                                                    : "GET";
    req.target = c.target;
    const std::string_view target = req.target;
    req.path = target.substr(0, target.find('?'));
    req.query = target.find('?') == std::string_view::npos ? std::string_view()
                                                           : target.substr(target.find('?') + 1);
    req.content_type = c.content_type;
    req.body = c.body;
    req.accept = c.accept;
    req.authorization = c.authorization;
    req.peer_ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, c.peer};
    auto capture = std::make_shared<Capture>();
    api_->Handle(req, *capture);
    return capture->Wait();
  }

  // A new link of alice's with these fields; its code.
  std::string Create(json fields) {
    if (!fields.contains("url")) fields["url"] = "https://example.com/secret";
    const Answer a = Send({.method = Method::kPost,
                           .target = "/v1/urls",
                           .content_type = "application/json",
                           .body = fields.dump(),
                           .authorization = "Bearer " + key_});
    EXPECT_EQ(a.status, 201) << a.Describe();
    auto j = json::parse(a.body, nullptr, false);
    return j.is_object() ? j.value("code", "") : "";
  }

  Answer Post(const std::string& code, std::string body, std::uint8_t peer = 1,
              std::string accept = {}) {
    return Send({.method = Method::kPost,
                 .target = "/" + code,
                 .content_type = std::string(kForm),
                 .body = std::move(body),
                 .accept = std::move(accept),
                 .peer = peer});
  }
  Answer Visit(const std::string& target, std::string accept = {}) {
    return Send({.method = Method::kGet, .target = target, .accept = std::move(accept)});
  }

  MovableClock clock_;
  adapters::argon2::Argon2Hasher hasher_{{.memory_kib = 256, .passes = 1, .lanes = 1}};
  adapters::memory::MemoryAccountStore accounts_store_;
  adapters::memory::MemoryLinkStore links_store_{accounts_store_};
  adapters::memory::MemoryClickStore clicks_store_{links_store_};
  service::RedirectCache cache_{1000, 2 * core::kMicrosPerSecond};
  service::CodeAllocator codes_{links_store_, core::CodeScrambler({11, 22, 33, 44}), 100};
  service::AccountService accounts_{accounts_store_, cache_, clock_};
  service::LinkService links_{links_store_, codes_, cache_, clock_, "sho.rt"};
  service::ClickQueue clicks_{64};
  WorkerPool workers_{2, 64};
  std::unique_ptr<Api> api_;
  std::string key_;
};

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
  EXPECT_EQ(post("Application/X-WWW-Form-Urlencoded; charset=UTF-8", "password=correct+horse")
                .status,
            301);
  const Answer big = post(std::string(kForm), "password=correct+horse&pad=" + std::string(4096, 'x'));
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

}  // namespace
}  // namespace kurz::http
