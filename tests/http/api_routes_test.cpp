// The API in process, through its route table and middleware: 404/405, the operations
// endpoints' methods and headers, declared permissions, metrics labels and the expires_in bound.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/memory/account_store.hpp"
#include "adapters/memory/click_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "http/api.hpp"
#include "http/openapi.hpp"
#include "ports/clock.hpp"
#include "service/account_service.hpp"
#include "service/code_allocator.hpp"
#include "service/link_service.hpp"

namespace kurz::http {
namespace {

constexpr core::Micros kT0 = 1'795'000'000LL * core::kMicrosPerSecond;

class FixedClock final : public ports::Clock {
 public:
  core::Micros Now() const override { return kT0; }
};

// The answer of one request, given on the loop or later from a worker.
struct Answer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool on_loop = false;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
  std::string ErrorCode() const {
    auto j = nlohmann::json::parse(body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
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
    answer_.on_loop = true;
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

class HttpApiTest : public ::testing::Test {
 protected:
  HttpApiTest() {
    ApiDeps deps{links_, accounts_, clicks_store_, cache_, clicks_, clock_, workers_, {}, nullptr};
    ApiOptions options;
    options.base_url = "https://sho.rt/";
    api_ = std::make_unique<Api>(std::move(deps), options, 1);
    auto user = accounts_.CreateUser("alice@example.com", "free");
    EXPECT_TRUE(user);
    if (user) key_ = user->first_key.secret;
  }

  Answer Send(Method method, std::string_view method_text, std::string_view target,
              std::string_view key = {}, std::string_view body = {}) {
    Request req;
    req.method = method;
    req.method_text = method_text;
    req.target = target;
    req.path = target.substr(0, target.find('?'));
    req.query = target.find('?') == std::string_view::npos ? std::string_view()
                                                           : target.substr(target.find('?') + 1);
    const std::string bearer = key.empty() ? std::string() : "Bearer " + std::string(key);
    req.authorization = bearer;
    req.body = body;
    if (!body.empty()) req.content_type = "application/json";
    auto capture = std::make_shared<Capture>();
    api_->Handle(req, *capture);
    return capture->Wait();
  }
  Answer Get(std::string_view target, std::string_view key = {}) {
    return Send(Method::kGet, "GET", target, key);
  }

  FixedClock clock_;
  adapters::memory::MemoryAccountStore accounts_store_;
  adapters::memory::MemoryLinkStore links_store_{accounts_store_};
  adapters::memory::MemoryClickStore clicks_store_{links_store_};
  service::RedirectCache cache_{1000, 2 * core::kMicrosPerSecond};
  service::CodeAllocator codes_{links_store_, core::CodeScrambler({11, 22, 33, 44}), 100};
  service::AccountService accounts_{accounts_store_, cache_, clock_};
  service::LinkService links_{links_store_, codes_, cache_, clock_, "sho.rt"};
  service::ClickQueue clicks_{64};
  WorkerPool workers_{1, 64};
  std::unique_ptr<Api> api_;
  std::string key_;
};

TEST_F(HttpApiTest, OperationsEndpointsAnswerGetAndHeadOnly) {
  for (std::string_view path : {"/healthz", "/readyz", "/metrics", "/v1/openapi.json"}) {
    for (auto [method, text] :
         {std::pair{Method::kPost, "POST"}, std::pair{Method::kDelete, "DELETE"},
          std::pair{Method::kPut, "PUT"}}) {
      const Answer a = Send(method, text, path);
      EXPECT_EQ(a.status, 405) << text << " " << path;
      EXPECT_EQ(a.ErrorCode(), "method_not_allowed") << a.body;
      EXPECT_EQ(a.Header("Allow"), "GET, HEAD") << text << " " << path;
      EXPECT_EQ(a.Header("Cache-Control"), "no-store");
    }
    for (auto [method, text] : {std::pair{Method::kGet, "GET"}, std::pair{Method::kHead, "HEAD"}}) {
      const Answer a = Send(method, text, path);
      EXPECT_EQ(a.status, 200) << text << " " << path << ": " << a.body;
      EXPECT_EQ(a.Header("Cache-Control"), "no-store") << path;
      EXPECT_TRUE(a.Header("X-Request-Id")) << path;
    }
  }
}

TEST_F(HttpApiTest, OpenApiDocumentIsServedOnTheLoopAndNotStored) {
  const Answer a = Get("/v1/openapi.json");
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(a.on_loop);
  EXPECT_EQ(a.body, OpenApiJson());
  EXPECT_EQ(a.Header("Content-Type"), "application/json");
  EXPECT_EQ(a.Header("Cache-Control"), "no-store");
}

TEST_F(HttpApiTest, UnknownApiPathsAre404AndWrongMethods405WithAllow) {
  EXPECT_EQ(Get("/v1").status, 404);
  EXPECT_EQ(Get("/v1/nothing").status, 404);
  EXPECT_EQ(Get("/v1/urls/abc/nothing").ErrorCode(), "not_found");
  struct Case {
    Method method;
    const char* text;
    const char* path;
    const char* allow;
  };
  for (const Case& c : {Case{Method::kPut, "PUT", "/v1/urls", "GET, HEAD, POST"},
                        Case{Method::kPost, "POST", "/v1/urls/abc", "GET, HEAD, PATCH, DELETE"},
                        Case{Method::kDelete, "DELETE", "/v1/urls/abc/stats", "GET, HEAD"},
                        Case{Method::kPatch, "PATCH", "/v1/api-keys", "GET, HEAD, POST"},
                        Case{Method::kGet, "GET", "/v1/api-keys/3", "DELETE"},
                        Case{Method::kDelete, "DELETE", "/v1/users/3", "GET, HEAD, PATCH"},
                        // POST /{code} is the password form's (http/password_post.hpp).
                        Case{Method::kPut, "PUT", "/abc1234", "GET, HEAD"}}) {
    const Answer a = Send(c.method, c.text, c.path, key_);
    EXPECT_EQ(a.status, 405) << c.text << " " << c.path;
    EXPECT_EQ(a.Header("Allow"), c.allow) << c.text << " " << c.path;
  }
}

TEST_F(HttpApiTest, RoutesCheckTheirDeclaredPermission) {
  auto who = accounts_.Authenticate(key_);
  ASSERT_TRUE(who);
  auto read_only = accounts_.CreateKey(*who, "read", core::kPermRead);
  auto none = accounts_.CreateKey(*who, "none", 0);
  ASSERT_TRUE(read_only && none);

  EXPECT_EQ(Get("/v1/api-keys", key_).status, 200);
  EXPECT_EQ(Get("/v1/api-keys", read_only->secret).status, 200);
  const Answer keys = Get("/v1/api-keys", none->secret);
  EXPECT_EQ(keys.status, 403) << keys.body;
  EXPECT_EQ(keys.ErrorCode(), "forbidden");
  EXPECT_EQ(Send(Method::kPost, "POST", "/v1/api-keys", none->secret, "{}").status, 403);
  EXPECT_EQ(Send(Method::kDelete, "DELETE", "/v1/api-keys/1", none->secret).status, 403);

  EXPECT_EQ(Get("/v1/urls", none->secret).status, 403);
  const Answer create =
      Send(Method::kPost, "POST", "/v1/urls", read_only->secret, R"({"url":"https://e.com/"})");
  EXPECT_EQ(create.status, 403);
  EXPECT_NE(create.body.find("'create' permission"), std::string::npos) << create.body;
  EXPECT_EQ(Get("/v1/users", key_).status, 403) << "a user's default key is not an admin";
  EXPECT_EQ(Get("/v1/urls").status, 401);
  EXPECT_EQ(Get("/v1/urls").Header("WWW-Authenticate"), "Bearer");
}

TEST_F(HttpApiTest, ExpiresInBeyondTheBoundNamesIt) {
  const Answer a = Send(Method::kPost, "POST", "/v1/urls", key_,
                        R"({"url":"https://example.com/","expires_in":3162240001})");
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("expires_in must be a whole number of seconds from 1 to 3162240000 "
                        "(100 years)"),
            std::string::npos)
      << a.body;
  const Answer ok = Send(Method::kPost, "POST", "/v1/urls", key_,
                         R"({"url":"https://example.com/","expires_in":3162240000})");
  EXPECT_EQ(ok.status, 201) << ok.body;
  auto link = nlohmann::json::parse(ok.body);
  EXPECT_EQ(link["short_url"], "https://sho.rt/" + link["code"].get<std::string>());
}

TEST_F(HttpApiTest, MetricsKeepTheirRouteLabels) {
  Get("/healthz");
  Get("/v1/urls", key_);
  Get("/v1/nothing");
  Get("/NoSuch55");
  const Answer a = Get("/metrics");
  for (std::string_view label :
       {R"(route="healthz",status="200")", R"(route="/v1/urls",status="200")",
        R"(route="other",status="404")", R"(route="redirect",status="404")"}) {
    EXPECT_NE(a.body.find(label), std::string::npos) << label << " in\n" << a.body;
  }
}

}  // namespace
}  // namespace kurz::http
