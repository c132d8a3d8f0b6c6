// A click budget when the database cannot answer (API.md "max_clicks"; docs/api.md): budgeted
// links answer 503 with Retry-After rather than redirect without counting, so a budget is never
// overrun; plain links go on from the cache; once the database is back the budget goes on where
// it was.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "http/password_link_harness.hpp"

namespace kurz::http::testing {
namespace {

// The memory store, whose UseClick and Find can be made to fail as a database that is down.
class FlakyLinkStore final : public ports::LinkStore {
 public:
  explicit FlakyLinkStore(ports::LinkStore& inner) : inner_(inner) {}
  std::atomic<bool> down{false};

  core::Result<void> Insert(const core::Link& link) override { return inner_.Insert(link); }
  core::Result<core::Link> Find(std::string_view code) override {
    if (down) return Down();
    return inner_.Find(code);
  }
  core::Result<std::optional<core::Link>> FindDuplicate(std::int64_t owner, std::string_view url,
                                                        core::RedirectType type) override {
    return inner_.FindDuplicate(owner, url, type);
  }
  core::Result<std::vector<core::Link>> SearchByOwner(std::int64_t owner,
                                                      const core::LinkQuery& query) override {
    return inner_.SearchByOwner(owner, query);
  }
  core::Result<std::vector<core::TagCount>> ListTags(std::int64_t owner) override {
    return inner_.ListTags(owner);
  }
  core::Result<void> Update(const core::Link& link) override { return inner_.Update(link); }
  core::Result<bool> UseClick(std::string_view code) override {
    if (down) return Down();
    return inner_.UseClick(code);
  }
  core::Result<std::vector<core::Result<void>>> InsertMany(
      std::span<const core::Link> links) override {
    return inner_.InsertMany(links);
  }
  core::Result<void> SoftDelete(std::string_view code, std::int64_t owner,
                                core::Micros at) override {
    return inner_.SoftDelete(code, owner, at);
  }
  core::Result<std::uint64_t> LeaseCodeBlock(std::uint64_t count) override {
    return inner_.LeaseCodeBlock(count);
  }

 private:
  static std::unexpected<core::Error> Down() {
    return core::Fail(core::ErrorCode::kUnavailable, "database down (test)");
  }
  ports::LinkStore& inner_;
};

class BudgetOutageTest : public ::testing::Test {
 protected:
  BudgetOutageTest() {
    ApiDeps deps{links_, accounts_, clicks_store_, cache_, clicks_, clock_, workers_, {}, nullptr};
    ApiOptions options;
    options.base_url = "https://sho.rt";
    api_ = std::make_unique<Api>(std::move(deps), options, 1);
    auto user = accounts_.CreateUser("bob@example.com", "free");
    EXPECT_TRUE(user);
    if (user) key_ = user->first_key.secret;
  }

  Answer Send(Method method, std::string target, std::string body = {}) {
    Request req;
    req.method = method;
    req.method_text = method == Method::kPost ? "POST" : "GET";
    target_ = std::move(target);
    body_ = std::move(body);
    req.target = target_;
    req.path = target_;
    req.content_type = "application/json";
    req.body = body_;
    auth_ = method == Method::kPost ? "Bearer " + key_ : "";
    req.authorization = auth_;
    req.peer_ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};
    auto capture = std::make_shared<Capture>();
    api_->Handle(req, *capture);
    return capture->Wait();
  }

  MovableClock clock_;
  adapters::memory::MemoryAccountStore accounts_store_;
  adapters::memory::MemoryLinkStore memory_{accounts_store_};
  FlakyLinkStore store_{memory_};
  adapters::memory::MemoryClickStore clicks_store_{memory_};
  service::RedirectCache cache_{1000, 2 * core::kMicrosPerSecond};
  service::CodeAllocator codes_{store_, core::CodeScrambler({11, 22, 33, 44}), 100};
  service::AccountService accounts_{accounts_store_, cache_, clock_};
  service::LinkService links_{store_, codes_, cache_, clock_, "sho.rt"};
  service::ClickQueue clicks_{64};
  WorkerPool workers_{2, 64};
  std::unique_ptr<Api> api_;
  std::string key_;
  std::string auth_;  // what the Request views point into
  std::string target_;
  std::string body_;
};

TEST_F(BudgetOutageTest, ABudgetedLinkAnswers503WhileTheDatabaseIsDownAndGoesOnAfter) {
  const Answer made =
      Send(Method::kPost, "/v1/urls", R"({"url":"https://example.com/b","max_clicks":2})");
  ASSERT_EQ(made.status, 201) << made.Describe();
  const std::string code = json::parse(made.body)["code"];
  const Answer plain_made = Send(Method::kPost, "/v1/urls", R"({"url":"https://example.com/p"})");
  ASSERT_EQ(plain_made.status, 201) << plain_made.Describe();
  const std::string plain = json::parse(plain_made.body)["code"];

  EXPECT_EQ(Send(Method::kGet, "/" + code).status, 301);   // one of two used; now cached
  EXPECT_EQ(Send(Method::kGet, "/" + plain).status, 301);  // cached too

  store_.down = true;
  const Answer refused = Send(Method::kGet, "/" + code);
  EXPECT_EQ(refused.status, 503) << refused.Describe();
  EXPECT_EQ(refused.ErrorCode(), "unavailable") << refused.Describe();
  EXPECT_TRUE(refused.Header("Retry-After").has_value()) << refused.Describe();
  EXPECT_FALSE(refused.Header("Location").has_value());
  EXPECT_EQ(Send(Method::kGet, "/" + plain).status, 301) << "plain links go on from the cache";

  store_.down = false;
  EXPECT_EQ(Send(Method::kGet, "/" + code).status, 301);  // the second and last
  EXPECT_EQ(Send(Method::kGet, "/" + code).status, 410);  // the outage used none
}

}  // namespace
}  // namespace kurz::http::testing
