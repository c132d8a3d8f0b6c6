#include "http/middleware.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace kurz::http {

namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (a != prefix[i]) return false;
  }
  return true;
}

bool IsAcceptableRequestId(std::string_view id) {
  return !id.empty() && id.size() <= 128 &&
         std::ranges::all_of(id, [](char c) { return c >= 0x20 && c < 0x7F; });
}

std::int64_t CeilSeconds(std::int64_t us) { return (us + 999'999) / 1'000'000; }

}  // namespace

RequestIds::RequestIds(std::uint64_t prefix, int loops)
    : loops_(static_cast<std::size_t>(std::max(loops, 1))) {
  std::snprintf(prefix_, sizeof prefix_, "%016llx", static_cast<unsigned long long>(prefix));
}

std::string_view RequestIds::For(const Request& req) {
  if (IsAcceptableRequestId(req.request_id)) return req.request_id;
  LoopState& loop = loops_[static_cast<std::size_t>(req.loop_index) % loops_.size()];
  std::memcpy(loop.request_id, prefix_, 16);
  std::uint64_t n = ++loop.counter * loops_.size() + static_cast<std::size_t>(req.loop_index);
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 31; i >= 16; --i, n >>= 4) loop.request_id[i] = kHex[n & 15];
  return {loop.request_id, 32};
}

void RequestIds::Fresh(char (&out)[33]) {
  // The top bit keeps these apart from the per-loop ids.
  std::snprintf(out, sizeof out, "%s%016llx", prefix_,
                static_cast<unsigned long long>(fresh_.fetch_add(1, std::memory_order_relaxed) |
                                                (1ULL << 63)));
}

std::expected<service::Principal, ApiError> Authenticate(service::AccountService& accounts,
                                                         const Request& req) {
  std::string_view key = req.api_key;
  if (!req.authorization.empty()) {
    if (!StartsWithNoCase(req.authorization, "bearer ")) {
      return std::unexpected(
          ApiError{401, "unauthorized", "Authorization must be 'Bearer <api key>'"});
    }
    key = req.authorization.substr(7);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  }
  if (key.empty()) {
    return std::unexpected(ApiError{401, "unauthorized",
                                    "an API key is required: send 'Authorization: Bearer <key>'"});
  }
  auto who = accounts.Authenticate(key);
  if (!who) return std::unexpected(FromError(who.error()));
  return *who;
}

std::optional<ApiError> CheckPermit(Permit permit, const service::Principal& who) {
  switch (permit.kind) {
    case Permit::Kind::kPublic:
      return std::nullopt;
    case Permit::Kind::kAnyPermission:
      // Keys manage keys within their own permissions (AccountService); one with none may not.
      if (who.permissions == 0) {
        return ApiError{403, "forbidden", "this API key has no permissions; it cannot manage keys"};
      }
      return std::nullopt;
    case Permit::Kind::kPermission:
      if (!who.Has(permit.permission)) {
        return ApiError{403, "forbidden",
                        "this API key lacks the '" +
                            std::string(core::PermissionName(permit.permission)) + "' permission"};
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ApiError> CheckJsonBody(const Request& req) {
  if (req.method != Method::kPost && req.method != Method::kPatch) return std::nullopt;
  std::string_view type = req.content_type.substr(0, req.content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() == 16 && StartsWithNoCase(type, "application/json")) return std::nullopt;
  return ApiError{415, "unsupported_media_type",
                  "send the body as JSON with 'Content-Type: application/json'"};
}

ApiRateLimit::ApiRateLimit(std::int64_t per_second, ports::RateLimitStore* shared,
                           const ports::Clock& clock)
    : local_(per_second), shared_(shared), clock_(clock) {}

core::GcraDecision ApiRateLimit::Decide(std::int64_t key_id) {
  if (shared_ != nullptr) {
    char name[32];
    std::snprintf(name, sizeof name, "api:%lld", static_cast<long long>(key_id));
    auto shared = shared_->Check(name, local_.gcra(), clock_.Now());
    if (shared) return *shared;
    fallbacks_.fetch_add(1, std::memory_order_relaxed);
  }
  return local_.Check({0, static_cast<std::uint64_t>(key_id)}, MonotonicMicros());
}

std::optional<ApiError> ApiRateLimit::Check(std::int64_t key_id, ExtraHeaders& headers) {
  const core::GcraDecision decision = Decide(key_id);
  headers.emplace_back("RateLimit-Limit", std::to_string(local_.limit()));
  headers.emplace_back("RateLimit-Remaining",
                       std::to_string(decision.allowed ? decision.remaining : 0));
  headers.emplace_back("RateLimit-Reset", std::to_string(CeilSeconds(decision.reset_after_us)));
  if (decision.allowed) return std::nullopt;
  headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(
                                          1, CeilSeconds(decision.retry_after_us))));
  return ApiError{429, "rate_limited", "too many requests for this API key; retry later"};
}

}  // namespace kurz::http
