#pragma once

// What the password link tests share: two kurz API instances in process (memory stores, the real
// argon2id hasher with cheap parameters, a clock the test moves) and a way to send them requests.

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

#include <gtest/gtest.h>

#include "adapters/argon2/argon2_hasher.hpp"
#include "adapters/memory/account_store.hpp"
#include "adapters/memory/click_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "http/api.hpp"
#include "ports/attempt_counter.hpp"
#include "ports/clock.hpp"
#include "service/account_service.hpp"
#include "service/code_allocator.hpp"
#include "service/link_service.hpp"

// Calls name only the fields they set (designated initializers); the rest default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace kurz::http::testing {

using nlohmann::json;
inline constexpr core::Micros kT0 = 1'795'000'000LL * core::kMicrosPerSecond;
inline constexpr core::Micros kSecond = core::kMicrosPerSecond;

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

inline constexpr std::string_view kForm = "application/x-www-form-urlencoded";

// Two kurz instances in process over one link store (as two on one database), each with its own
// failure limit, which uses `shared` (Redis in cluster mode) when given.
class PasswordLinkHarness {
 public:
  explicit PasswordLinkHarness(ports::AttemptCounter* shared = nullptr,
                               std::int64_t rate_limit_redirect = 0) {
    links_.SetPasswordHasher(&hasher_);
    for (auto& api : api_) {
      ApiDeps deps{links_,   accounts_, clicks_store_, cache_, clicks_, clock_,
                   workers_, {},        nullptr};
      deps.passwords = &hasher_;
      deps.shared_attempts = shared;
      ApiOptions options;
      options.base_url = "https://sho.rt";
      options.rate_limit_redirect = rate_limit_redirect;
      api = std::make_unique<Api>(std::move(deps), options, 1);
    }
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
    int instance = 0;       // which of the two answers
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
    api_[c.instance]->Handle(req, *capture);
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
              std::string accept = {}, int instance = 0) {
    return Send({.method = Method::kPost,
                 .target = "/" + code,
                 .content_type = std::string(kForm),
                 .body = std::move(body),
                 .accept = std::move(accept),
                 .peer = peer,
                 .instance = instance});
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
  std::unique_ptr<Api> api_[2];
  std::string key_;
};

}  // namespace kurz::http::testing
