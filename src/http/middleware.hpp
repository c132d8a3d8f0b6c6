#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/reply.hpp"
#include "http/route_table.hpp"
#include "http/server.hpp"
#include "ports/clock.hpp"
#include "ports/rate_limit_store.hpp"
#include "service/account_service.hpp"
#include "service/rate_limiter.hpp"

// The checks every route set runs before its handlers (the kurz API today; compatible APIs and
// the dashboard later): request ids, authentication, permission, API rate limit, body type.

namespace kurz::http {

inline std::int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

using ExtraHeaders = std::vector<std::pair<std::string, std::string>>;

// X-Request-Id of each answer: the client's when acceptable (1..128 printable ASCII characters),
// else a fresh one, unique across processes by `prefix` (16 hex digits + a per-loop counter).
class RequestIds {
 public:
  RequestIds(std::uint64_t prefix, int loops);
  // On the request's loop thread; no allocation. The view lives until the loop's next request.
  std::string_view For(const Request& req);
  // For answers without a parsed request, from any thread: 32 characters and a NUL.
  void Fresh(char (&out)[33]);

 private:
  struct alignas(64) LoopState {
    std::uint64_t counter = 0;
    char request_id[33] = {};
  };
  std::vector<LoopState> loops_;
  char prefix_[17] = {};
  std::atomic<std::uint64_t> fresh_{0};
};

// The caller's key from 'Authorization: Bearer <key>' (preferred) or X-API-Key, checked with
// the account service: the principal, or 401 (or the service's error, e.g. 503).
std::expected<service::Principal, ApiError> Authenticate(service::AccountService& accounts,
                                                         const Request& req);

// 403 when `who` lacks what `permit` requires.
std::optional<ApiError> CheckPermit(Permit permit, const service::Principal& who);

// 415 when a POST or PATCH body is not declared as application/json.
std::optional<ApiError> CheckJsonBody(const Request& req);

// Requests per API key per second: the shared store when there is one (cluster mode), the
// per-process limiter when it is off or does not answer (counted in Fallbacks()).
class ApiRateLimit {
 public:
  ApiRateLimit(std::int64_t per_second, ports::RateLimitStore* shared, const ports::Clock& clock);
  bool Enabled() const { return local_.enabled(); }
  // Counts one request of the key and appends RateLimit-Limit/-Remaining/-Reset (and
  // Retry-After when over) to `headers`; 429 when over the limit.
  std::optional<ApiError> Check(std::int64_t key_id, ExtraHeaders& headers);
  std::uint64_t Fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }

 private:
  core::GcraDecision Decide(std::int64_t key_id);
  service::RateLimiter local_;
  ports::RateLimitStore* shared_;
  const ports::Clock& clock_;
  std::atomic<std::uint64_t> fallbacks_{0};
};

// The chain of a route that needs a key: authentication → rate limit → permission → body type
// → next(principal). The rate-limit headers are added to whatever answer comes out.
template <class Next>
Response RunGuarded(service::AccountService& accounts, ApiRateLimit& limit, Permit permit,
                    const Request& req, Reply& reply, Next&& next) {
  auto who = Authenticate(accounts, req);
  if (!who) return reply.Error(who.error());
  ExtraHeaders limit_headers;
  Response out = [&] {
    if (limit.Enabled()) {
      if (auto over = limit.Check(who->key_id, limit_headers)) return reply.Error(*over);
    }
    if (auto denied = CheckPermit(permit, *who)) return reply.Error(*denied);
    if (auto bad_type = CheckJsonBody(req)) return reply.Error(*bad_type);
    return next(*who);
  }();
  for (auto& h : limit_headers) out.headers.push_back(std::move(h));
  return out;
}

}  // namespace kurz::http
