#include "http/api.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/click_event.hpp"
#include "core/ip.hpp"
#include "core/metrics_writer.hpp"
#include "core/redirect.hpp"
#include "core/short_code.hpp"
#include "core/time.hpp"
#include "http/error_body.hpp"
#include "http/openapi.hpp"

namespace kurz::http {

namespace {

using Json = nlohmann::ordered_json;
using core::ErrorCode;

constexpr std::size_t kMaxMetadataBytes = 4096;
constexpr int kDefaultListLimit = 50;
constexpr int kMaxListLimit = 1000;
constexpr int kDefaultStatsDays = 30;
constexpr int kMaxStatsDays = 366;
constexpr int kDefaultTop = 10;  // values per breakdown in /stats
constexpr int kMaxTop = 1000;
constexpr std::int64_t kMaxExpiresInSeconds = 100LL * 366 * 24 * 3600;

std::int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (a != prefix[i]) return false;
  }
  return true;
}

// Request ids we echo: 1..128 printable ASCII characters (space included).
bool IsAcceptableRequestId(std::string_view id) {
  return !id.empty() && id.size() <= 128 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

struct ApiError {
  int status;
  std::string_view code;
  std::string message;
};

ApiError FromError(const core::Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      return {400, "invalid_argument", e.detail};
    case ErrorCode::kInvalidUrl:
      return {400, "invalid_url", e.detail};
    case ErrorCode::kInvalidCode:
      return {400, "invalid_code", e.detail};
    case ErrorCode::kNotFound:
      return {404, "not_found", e.detail};
    case ErrorCode::kGone:
      return {410, "gone", e.detail};
    case ErrorCode::kConflict:
      return {409, "code_taken", e.detail};
    case ErrorCode::kUnauthorized:
      return {401, "unauthorized", e.detail};
    case ErrorCode::kForbidden:
      return {403, "forbidden", e.detail};
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
      return {503, "unavailable", "a backend is unavailable: " + e.detail};
    case ErrorCode::kInternal:
      break;
  }
  return {500, "internal", "internal error"};
}

Json PermissionsJson(core::Permissions perms) {
  Json out = Json::array();
  for (core::Permission p : core::kEveryPermission) {
    if (perms & p) out.push_back(core::PermissionName(p));
  }
  return out;
}

Json TimeOrNull(const std::optional<core::Micros>& t) {
  return t ? Json(core::FormatRfc3339(*t)) : Json(nullptr);
}

// Opaque list cursors: base64url of "<created_at>.<code>".
constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string EncodeCursor(const core::ListCursor& c) {
  const std::string raw = std::to_string(c.created_at) + "." + c.code;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char ch : raw) {
    acc = (acc << 8) | ch;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  return out;
}

std::optional<core::ListCursor> DecodeCursor(std::string_view s) {
  if (s.empty() || s.size() > 128) return std::nullopt;
  std::string raw;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : s) {
    const auto pos = kB64.find(ch);
    if (pos == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      raw.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  const auto dot = raw.find('.');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  core::ListCursor cursor;
  const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + dot, cursor.created_at);
  if (ec != std::errc() || ptr != raw.data() + dot || cursor.created_at < 0) return std::nullopt;
  cursor.code = raw.substr(dot + 1);
  if (!core::LooksLikeCode(cursor.code)) return std::nullopt;
  return cursor;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The percent-decoded value of `name` in a query string; nullopt when absent.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        value.push_back(' ');
      } else if (raw[i] == '%' && i + 2 < raw.size() + 0 && HexValue(raw[i + 1]) >= 0 &&
                 HexValue(raw[i + 2]) >= 0) {
        value.push_back(static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2])));
        i += 2;
      } else {
        value.push_back(raw[i]);
      }
    }
    return value;
  }
  return std::nullopt;
}

std::optional<std::int64_t> ParsePositiveId(std::string_view s) {
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || ptr != s.data() + s.size() || id <= 0) return std::nullopt;
  return id;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 1;  // skip the leading '/'
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    segments.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

// What a matched API route allows.
struct RouteMatch {
  Route route = Route::kOther;
  std::string_view allow;  // the Allow header
  std::string_view param;  // {code} or {id}
  bool method_ok = false;
  core::Permissions needs = 0;  // permission the method requires
};

bool IsGetLike(Method m) { return m == Method::kGet || m == Method::kHead; }

std::optional<RouteMatch> MatchApi(const std::vector<std::string_view>& seg, Method m) {
  // seg[0] == "v1"
  RouteMatch r;
  const std::size_t n = seg.size();
  if (n == 2 && seg[1] == "urls") {
    r.route = Route::kLinks;
    r.allow = "GET, HEAD, POST";
    r.method_ok = IsGetLike(m) || m == Method::kPost;
    r.needs = m == Method::kPost ? core::kPermCreate : core::kPermRead;
  } else if (n == 3 && seg[1] == "urls") {
    r.route = Route::kLink;
    r.allow = "GET, HEAD, DELETE";
    r.param = seg[2];
    r.method_ok = IsGetLike(m) || m == Method::kDelete;
    r.needs = m == Method::kDelete ? core::kPermDelete : core::kPermRead;
  } else if (n == 4 && seg[1] == "urls" && seg[3] == "stats") {
    r.route = Route::kLinkStats;
    r.allow = "GET, HEAD";
    r.param = seg[2];
    r.method_ok = IsGetLike(m);
    r.needs = core::kPermRead;
  } else if (n == 5 && seg[1] == "urls" && seg[3] == "stats" && seg[4] == "timeseries") {
    r.route = Route::kLinkTimeseries;
    r.allow = "GET, HEAD";
    r.param = seg[2];
    r.method_ok = IsGetLike(m);
    r.needs = core::kPermRead;
  } else if (n == 2 && seg[1] == "api-keys") {
    r.route = Route::kApiKeys;
    r.allow = "GET, HEAD, POST";
    r.method_ok = IsGetLike(m) || m == Method::kPost;
  } else if (n == 3 && seg[1] == "api-keys") {
    r.route = Route::kApiKey;
    r.allow = "DELETE";
    r.param = seg[2];
    r.method_ok = m == Method::kDelete;
  } else if (n == 2 && seg[1] == "users") {
    r.route = Route::kUsers;
    r.allow = "GET, HEAD, POST";
    r.method_ok = IsGetLike(m) || m == Method::kPost;
    r.needs = core::kPermAdmin;
  } else if (n == 3 && seg[1] == "users") {
    r.route = Route::kUser;
    r.allow = "GET, HEAD, PATCH";
    r.param = seg[2];
    r.method_ok = IsGetLike(m) || m == Method::kPatch;
    r.needs = core::kPermAdmin;
  } else {
    return std::nullopt;
  }
  return r;
}

// Builds owned responses for the worker-pool side.
class Reply {
 public:
  explicit Reply(std::string request_id) : request_id_(std::move(request_id)) {}

  Response Json(int status, const nlohmann::ordered_json& body) {
    Response r = Base(status);
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    return r;
  }
  Response Error(const ApiError& e) {
    Response r = Base(e.status);
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = ErrorBody(e.code, e.message);
    if (e.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    if (e.status == 503) r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  Response Error(int status, std::string_view code, std::string message) {
    return Error(ApiError{status, code, std::move(message)});
  }
  Response Empty(int status) { return Base(status); }
  // An answer of the redirect path (core::AnswerRedirect decided it, Cache-Control included).
  Response Redirect(const core::RedirectAnswer& answer) {
    Response r;
    r.status = answer.status;
    r.headers.emplace_back("X-Request-Id", request_id_);
    if (!answer.location.empty()) r.headers.emplace_back("Location", answer.location);
    r.headers.emplace_back("Cache-Control", answer.CacheControl());
    if (!answer.content_type.empty()) r.headers.emplace_back("Content-Type", answer.content_type);
    r.body = answer.body;
    return r;
  }

 private:
  Response Base(int status) {
    Response r;
    r.status = status;
    r.headers.emplace_back("X-Request-Id", request_id_);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  std::string request_id_;
};

}  // namespace

class Api::Impl {
 public:
  Impl(ApiDeps deps, ApiOptions options, int loops)
      : d_(std::move(deps)),
        o_(std::move(options)),
        api_limiter_(o_.rate_limit_api),
        redirect_limiter_(o_.rate_limit_redirect),
        loops_(static_cast<std::size_t>(std::max(loops, 1))) {
    while (!o_.base_url.empty() && o_.base_url.back() == '/') o_.base_url.pop_back();
    std::snprintf(id_prefix_, sizeof id_prefix_, "%016llx",
                  static_cast<unsigned long long>(o_.click_id_prefix));
  }

  void Handle(const Request& req, Responder& res);
  void ProtocolError(int status, std::string_view code, std::string_view message, Responder& res);

 private:
  struct alignas(64) LoopState {
    std::uint64_t counter = 0;
    char request_id[33] = {};
  };

  // The request's id: the client's when acceptable, else a fresh one (no allocation).
  std::string_view RequestId(const Request& req) {
    if (IsAcceptableRequestId(req.request_id)) return req.request_id;
    LoopState& loop = loops_[static_cast<std::size_t>(req.loop_index) % loops_.size()];
    std::memcpy(loop.request_id, id_prefix_, 16);
    std::uint64_t n = ++loop.counter * loops_.size() + static_cast<std::size_t>(req.loop_index);
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 31; i >= 16; --i, n >>= 4) loop.request_id[i] = kHex[n & 15];
    return {loop.request_id, 32};
  }

  // Answers produced on the loop take microseconds: they are counted in the histogram's first
  // bucket without reading the clock twice per request.
  void SendSync(Route route, Responder& res, int status, std::span<const Header> headers,
                std::string_view body) {
    res.Send(status, headers, body);
    d_.metrics_sink.RecordImmediate(route, status);
  }

  void Redirect(const Request& req, Responder& res);
  // Sends an answer of the redirect path on the loop (no allocation); the caller counts it.
  void SendRedirectAnswer(Responder& res, std::string_view request_id,
                          const core::RedirectAnswer& answer);
  // The client's address: the peer, or what trusted proxies say it is (core::ClientIp).
  core::IpAddress ClientIp(const Request& req) const {
    return core::ClientIp(req.peer_ip, req.forwarded_for, o_.trusted_proxies);
  }
  void RecordClick(const Request& req, const core::IpAddress& client, std::string_view code,
                   core::Micros now);
  void Defer(Route route, const Request& req, Responder& res, std::string_view request_id,
             std::function<Response(const Request&, Reply&)> work);
  Response RunApi(const RouteMatch& match, const Request& req, Reply& reply,
                  std::vector<std::pair<std::string, std::string>>& limit_headers);
  Response Readiness(Reply& reply);
  std::string RenderMetrics() const;

  Response CreateLink(const service::Principal& who, const Request& req, Reply& reply);
  Response ListLinks(const service::Principal& who, const Request& req, Reply& reply);
  Response LinkStats(const service::Principal& who, std::string_view code, const Request& req,
                     Reply& reply);
  Response LinkTimeseries(const service::Principal& who, std::string_view code, const Request& req,
                          Reply& reply);
  Response CreateKey(const service::Principal& who, const Request& req, Reply& reply);
  Response ListKeys(const service::Principal& who, Reply& reply);
  Response CreateUser(const Request& req, Reply& reply);
  Response ListUsers(Reply& reply);
  Response GetUser(std::string_view id, Reply& reply);
  Response PatchUser(const service::Principal& who, std::string_view id, const Request& req,
                     Reply& reply);
  Json LinkJson(const core::Link& link) const;

  struct Deps : ApiDeps {
    Metrics metrics_sink;
    explicit Deps(ApiDeps deps) : ApiDeps(std::move(deps)) {}
  };
  Deps d_;
  ApiOptions o_;
  // The shared limit of an API key, or the per-process one when the shared store is off or down.
  core::GcraDecision CheckApiLimit(std::int64_t key_id);

  service::RateLimiter api_limiter_;
  std::atomic<std::uint64_t> limit_fallbacks_{0};
  service::RateLimiter redirect_limiter_;
  std::vector<LoopState> loops_;
  char id_prefix_[17] = {};
  std::atomic<std::uint64_t> protocol_errors_{0};
  std::atomic<std::uint64_t> backend_errors_{0};
};

Api::Api(ApiDeps deps, ApiOptions options, int loops)
    : impl_(std::make_unique<Impl>(std::move(deps), std::move(options), loops)) {}
Api::~Api() = default;

void Api::Handle(const Request& request, Responder& responder) {
  impl_->Handle(request, responder);
}

void Api::HandleProtocolError(int status, std::string_view code, std::string_view message,
                              Responder& responder) {
  impl_->ProtocolError(status, code, message, responder);
}

void Api::Impl::ProtocolError(int status, std::string_view code, std::string_view message,
                              Responder& res) {
  // Called on any loop thread without a parsed request: a fresh id from a shared counter.
  char request_id[33];
  std::snprintf(request_id, sizeof request_id, "%s%016llx", id_prefix_,
                static_cast<unsigned long long>(
                    protocol_errors_.fetch_add(1, std::memory_order_relaxed) | (1ULL << 63)));
  const std::string body = ErrorBody(code, message);
  const Header headers[] = {{"X-Request-Id", request_id},
                            {"Content-Type", "application/json"},
                            {"Cache-Control", "no-store"}};
  res.Send(status, headers, body);
  d_.metrics_sink.Record(Route::kOther, status, 0);
}

void Api::Impl::Handle(const Request& req, Responder& res) {
  const std::string_view path = req.path;

  if (path == "/healthz") {
    const std::string_view id = RequestId(req);
    const Header headers[] = {
        {"X-Request-Id", id}, {"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
    SendSync(Route::kHealth, res, 200, headers, R"({"status":"ok"})");
    return;
  }
  if (path == "/metrics") {
    const std::string_view id = RequestId(req);
    const std::string text = RenderMetrics();
    const Header headers[] = {{"X-Request-Id", id},
                              {"Content-Type", "text/plain; version=0.0.4; charset=utf-8"},
                              {"Cache-Control", "no-store"}};
    SendSync(Route::kMetrics, res, 200, headers, text);
    return;
  }
  if (path == "/v1/openapi.json") {
    const std::string_view id = RequestId(req);
    const Header headers[] = {{"X-Request-Id", id}, {"Content-Type", "application/json"}};
    SendSync(Route::kOpenApi, res, 200, headers, OpenApiJson());
    return;
  }
  if (path == "/readyz") {
    Defer(Route::kReady, req, res, RequestId(req),
          [this](const Request&, Reply& reply) { return Readiness(reply); });
    return;
  }
  if (path == "/v1" || path.starts_with("/v1/")) {
    const auto segments = SplitPath(path);
    auto match = MatchApi(segments, req.method);
    const std::string_view id = RequestId(req);
    if (!match) {
      const std::string body = ErrorBody("not_found", "no such API endpoint");
      const Header headers[] = {{"X-Request-Id", id},
                                {"Content-Type", "application/json"},
                                {"Cache-Control", "no-store"}};
      SendSync(Route::kOther, res, 404, headers, body);
      return;
    }
    if (!match->method_ok) {
      const std::string body =
          ErrorBody("method_not_allowed", std::string(req.method_text) + " is not allowed here");
      const Header headers[] = {{"X-Request-Id", id},
                                {"Content-Type", "application/json"},
                                {"Cache-Control", "no-store"},
                                {"Allow", match->allow}};
      SendSync(match->route, res, 405, headers, body);
      return;
    }
    Defer(match->route, req, res, id, [this, m = *match](const Request& r, Reply& reply) {
      std::vector<std::pair<std::string, std::string>> limit_headers;
      Response out = RunApi(m, r, reply, limit_headers);
      for (auto& h : limit_headers) out.headers.push_back(std::move(h));
      return out;
    });
    return;
  }
  Redirect(req, res);
}

void Api::Impl::SendRedirectAnswer(Responder& res, std::string_view request_id,
                                   const core::RedirectAnswer& answer) {
  if (answer.content_type.empty()) {
    const Header headers[] = {{"Location", answer.location},
                              {"Cache-Control", answer.CacheControl()},
                              {"X-Request-Id", request_id}};
    res.Send(answer.status, headers, {});
  } else {
    const Header headers[] = {{"X-Request-Id", request_id},
                              {"Content-Type", answer.content_type},
                              {"Cache-Control", answer.CacheControl()}};
    res.Send(answer.status, headers, answer.body);
  }
}

void Api::Impl::RecordClick(const Request& req, const core::IpAddress& client,
                            std::string_view code, core::Micros now) {
  d_.clicks.TryPush([&](core::ClickEvent& event) {
    event.id_hi = o_.click_id_prefix;
    event.at = now;
    event.code.Assign(code);
    event.ip = client;
    event.user_agent.Assign(req.user_agent);
    event.referrer.Assign(req.referer);
    event.accept_language.Assign(req.accept_language);
    event.head = req.method == Method::kHead;
  });
}

void Api::Impl::Redirect(const Request& req, Responder& res) {
  const std::string_view request_id = RequestId(req);
  if (!IsGetLike(req.method)) {
    const std::string body =
        ErrorBody("method_not_allowed", std::string(req.method_text) + " is not allowed here");
    const Header headers[] = {{"X-Request-Id", request_id},
                              {"Content-Type", "application/json"},
                              {"Cache-Control", "no-store"},
                              {"Allow", "GET, HEAD"}};
    SendSync(Route::kRedirect, res, 405, headers, body);
    return;
  }
  // Reserved words need no check here: no link can have one as its code.
  const std::string_view code = req.path.substr(1);
  const core::RedirectRequest facts{req.method == Method::kHead, req.accept};
  if (!core::LooksLikeCode(code)) {
    // No link can have this code: the answer of one that is not found.
    const core::RedirectAnswer answer = core::AnswerRedirect({}, 0, facts);
    SendRedirectAnswer(res, request_id, answer);
    d_.metrics_sink.RecordImmediate(Route::kRedirect, answer.status);
    return;
  }
  const core::IpAddress client = ClientIp(req);
  if (redirect_limiter_.enabled()) {
    service::RateLimiter::Key key;
    std::memcpy(&key.hi, client.data(), 8);
    std::memcpy(&key.lo, client.data() + 8, 8);
    const core::GcraDecision decision = redirect_limiter_.Check(key, MonotonicMicros());
    if (!decision.allowed) {
      char retry[24];
      char limit[24];
      char reset[24];
      const auto seconds = [](std::int64_t us) { return (us + 999'999) / 1'000'000; };
      std::snprintf(
          retry, sizeof retry, "%lld",
          static_cast<long long>(std::max<std::int64_t>(1, seconds(decision.retry_after_us))));
      std::snprintf(limit, sizeof limit, "%lld", static_cast<long long>(redirect_limiter_.limit()));
      std::snprintf(reset, sizeof reset, "%lld",
                    static_cast<long long>(seconds(decision.reset_after_us)));
      const Header headers[] = {{"X-Request-Id", request_id},  {"Content-Type", "application/json"},
                                {"Cache-Control", "no-store"}, {"Retry-After", retry},
                                {"RateLimit-Limit", limit},    {"RateLimit-Remaining", "0"},
                                {"RateLimit-Reset", reset}};
      SendSync(
          Route::kRedirect, res, 429, headers,
          R"({"error":{"code":"rate_limited","message":"too many redirects from this address; retry later"}})");
      return;
    }
  }

  const core::Micros now = d_.clock.Now();
  int status = 0;
  bool click = false;
  const bool hit = d_.cache.Lookup(code, now, [&](const core::ResolvedLinkView& link) {
    // Sent under the shard's lock: the answer's Location is a view into the cache entry.
    const core::RedirectAnswer answer = core::AnswerRedirect(link, now, facts);
    SendRedirectAnswer(res, request_id, answer);
    status = answer.status;
    click = answer.record_click;
  });
  if (hit) {
    d_.metrics_sink.RecordImmediate(Route::kRedirect, status);
    if (click) RecordClick(req, client, code, now);
    return;
  }

  // A miss: the store answers on the worker pool, and fills the cache for the next request.
  Defer(Route::kRedirect, req, res, request_id, [this](const Request& r, Reply& reply) {
    const std::string_view c = r.path.substr(1);
    auto value = d_.links.Resolve(c);
    if (!value) return reply.Error(FromError(value.error()));
    const core::Micros when = d_.clock.Now();
    const core::RedirectAnswer answer = core::AnswerRedirect(
        value->View(), when, core::RedirectRequest{r.method == Method::kHead, r.accept});
    Response out = reply.Redirect(answer);
    if (answer.record_click) RecordClick(r, ClientIp(r), c, when);
    return out;
  });
}

void Api::Impl::Defer(Route route, const Request& req, Responder& res, std::string_view request_id,
                      std::function<Response(const Request&, Reply&)> work) {
  WorkerPool& pool = route == Route::kRedirect && d_.lookups ? *d_.lookups : d_.workers;
  const std::int64_t start = MonotonicMicros();
  auto deferred = std::make_shared<DeferredResponder>(res.Defer());
  auto task = [this, route, start, req, deferred, id = std::string(request_id),
               work = std::move(work)]() {
    Reply reply(id);
    Response out;
    try {
      out = work(req, reply);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kurz: internal error on %.*s: %s\n", static_cast<int>(req.path.size()),
                   req.path.data(), e.what());
      out = reply.Error(500, "internal", "internal error");
    }
    // 500 and 503 from inside a task come from a failing backend (or a bug), never from input.
    if (out.status == 500 || out.status == 503) {
      backend_errors_.fetch_add(1, std::memory_order_relaxed);
    }
    d_.metrics_sink.Record(route, out.status, MonotonicMicros() - start);
    deferred->Send(std::move(out));
  };
  if (!pool.Submit(task)) {
    Reply reply{std::string(request_id)};
    Response out = reply.Error(503, "unavailable", "the server is overloaded; retry shortly");
    d_.metrics_sink.Record(route, 503, MonotonicMicros() - start);
    deferred->Send(std::move(out));
  }
}

Response Api::Impl::Readiness(Reply& reply) {
  Json checks = Json::object();
  bool ready = true;
  for (const ReadinessCheck& check : d_.readiness) {
    auto [name, state] = check();
    if (state != "ok" && !state.starts_with("degraded")) ready = false;
    checks[name] = state;
  }
  Json body;
  body["status"] = ready ? "ready" : "not ready";
  body["checks"] = checks;
  Response out = reply.Json(ready ? 200 : 503, body);
  if (!ready) out.headers.emplace_back("Retry-After", "1");
  return out;
}

std::string Api::Impl::RenderMetrics() const {
  std::string out;
  out.reserve(16384);
  core::MetricsWriter w(out);
  d_.metrics_sink.Render(w);
  w.Counter("kurz_cache_hits_total", "Redirects answered from the L1 cache.",
            static_cast<double>(d_.cache.hits()));
  w.Counter("kurz_cache_misses_total", "Redirect lookups the L1 cache missed.",
            static_cast<double>(d_.cache.misses()));
  w.Gauge("kurz_cache_entries", "Entries in the L1 cache.", static_cast<double>(d_.cache.size()));
  w.Counter("kurz_click_events_total", "Click events queued for recording.",
            static_cast<double>(d_.clicks.pushed()));
  w.Counter("kurz_click_events_dropped_total", "Click events dropped because the queue was full.",
            static_cast<double>(d_.clicks.dropped()));
  w.Gauge("kurz_click_queue_depth", "Click events waiting to be stored.",
          static_cast<double>(d_.clicks.depth()));
  w.Gauge("kurz_click_queue_capacity", "Capacity of the click queue.",
          static_cast<double>(d_.clicks.capacity()));
  w.Counter("kurz_rate_limit_fallbacks_total",
            "API rate-limit checks decided by the per-process limiter because the shared store "
            "did not answer.",
            static_cast<double>(limit_fallbacks_.load(std::memory_order_relaxed)));
  w.Counter("kurz_backend_errors_total",
            "Requests answered 500 or 503 because a backend (the database) failed.",
            static_cast<double>(backend_errors_.load(std::memory_order_relaxed)));
  w.Gauge("kurz_worker_queue_depth", "Tasks waiting for a worker thread.",
          static_cast<double>(d_.workers.queued()));
  if (d_.extra_metrics) d_.extra_metrics(w);
  return out;
}

core::GcraDecision Api::Impl::CheckApiLimit(std::int64_t key_id) {
  if (d_.shared_limits != nullptr) {
    char name[32];
    std::snprintf(name, sizeof name, "api:%lld", static_cast<long long>(key_id));
    auto shared = d_.shared_limits->Check(name, api_limiter_.gcra(), d_.clock.Now());
    if (shared) return *shared;
    limit_fallbacks_.fetch_add(1, std::memory_order_relaxed);
  }
  return api_limiter_.Check({0, static_cast<std::uint64_t>(key_id)}, MonotonicMicros());
}

Response Api::Impl::RunApi(const RouteMatch& m, const Request& req, Reply& reply,
                           std::vector<std::pair<std::string, std::string>>& limit_headers) {
  std::string_view key = req.api_key;
  if (!req.authorization.empty()) {
    if (!StartsWithNoCase(req.authorization, "bearer ")) {
      return reply.Error(401, "unauthorized", "Authorization must be 'Bearer <api key>'");
    }
    key = req.authorization.substr(7);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  }
  if (key.empty()) {
    return reply.Error(401, "unauthorized",
                       "an API key is required: send 'Authorization: Bearer <key>'");
  }
  auto who = d_.accounts.Authenticate(key);
  if (!who) return reply.Error(FromError(who.error()));

  if (api_limiter_.enabled()) {
    const core::GcraDecision decision = CheckApiLimit(who->key_id);
    const auto seconds = [](std::int64_t us) { return (us + 999'999) / 1'000'000; };
    limit_headers.emplace_back("RateLimit-Limit", std::to_string(api_limiter_.limit()));
    limit_headers.emplace_back("RateLimit-Remaining",
                               std::to_string(decision.allowed ? decision.remaining : 0));
    limit_headers.emplace_back("RateLimit-Reset", std::to_string(seconds(decision.reset_after_us)));
    if (!decision.allowed) {
      limit_headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(
                                                    1, seconds(decision.retry_after_us))));
      return reply.Error(429, "rate_limited", "too many requests for this API key; retry later");
    }
  }

  if (m.needs != 0 && !who->Has(static_cast<core::Permission>(m.needs))) {
    return reply.Error(
        403, "forbidden",
        "this API key lacks the '" +
            std::string(core::PermissionName(static_cast<core::Permission>(m.needs))) +
            "' permission");
  }
  // Keys manage keys within their own permissions (AccountService); a key with none may not
  // manage any.
  if ((m.route == Route::kApiKeys || m.route == Route::kApiKey) && who->permissions == 0) {
    return reply.Error(403, "forbidden", "this API key has no permissions; it cannot manage keys");
  }
  if (req.method == Method::kPost || req.method == Method::kPatch) {
    const std::string_view type = req.content_type.substr(0, req.content_type.find(';'));
    std::string_view trimmed = type;
    while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
    if (!(trimmed.size() == 16 && StartsWithNoCase(trimmed, "application/json"))) {
      return reply.Error(415, "unsupported_media_type",
                         "send the body as JSON with 'Content-Type: application/json'");
    }
  }

  switch (m.route) {
    case Route::kLinks:
      return req.method == Method::kPost ? CreateLink(*who, req, reply)
                                         : ListLinks(*who, req, reply);
    case Route::kLink: {
      if (req.method == Method::kDelete) {
        auto deleted = d_.links.Delete(*who, m.param);
        if (!deleted) return reply.Error(FromError(deleted.error()));
        return reply.Empty(204);
      }
      auto link = d_.links.Get(*who, m.param);
      if (!link) return reply.Error(FromError(link.error()));
      return reply.Json(200, LinkJson(*link));
    }
    case Route::kLinkStats:
      return LinkStats(*who, m.param, req, reply);
    case Route::kLinkTimeseries:
      return LinkTimeseries(*who, m.param, req, reply);
    case Route::kApiKeys:
      return req.method == Method::kPost ? CreateKey(*who, req, reply) : ListKeys(*who, reply);
    case Route::kApiKey: {
      auto id = ParsePositiveId(m.param);
      if (!id) return reply.Error(404, "not_found", "no active API key with this id");
      auto revoked = d_.accounts.RevokeKey(*who, *id);
      if (!revoked) return reply.Error(FromError(revoked.error()));
      return reply.Empty(204);
    }
    case Route::kUsers:
      return req.method == Method::kPost ? CreateUser(req, reply) : ListUsers(reply);
    case Route::kUser:
      return req.method == Method::kPatch ? PatchUser(*who, m.param, req, reply)
                                          : GetUser(m.param, reply);
    default:
      break;
  }
  return reply.Error(404, "not_found", "no such API endpoint");
}

namespace {

// Parses a JSON object body; an ApiError when it is not one.
std::expected<Json, ApiError> ParseObject(std::string_view body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return std::unexpected(ApiError{400, "invalid_json", "the body is not valid JSON"});
  }
  if (!parsed.is_object()) {
    return std::unexpected(ApiError{400, "invalid_json", "the body must be a JSON object"});
  }
  return parsed;
}

std::optional<ApiError> RejectUnknownFields(const Json& body,
                                            std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : body.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return ApiError{400, "invalid_argument", "unknown field '" + name + "'"};
    }
  }
  return std::nullopt;
}

std::expected<core::Permissions, ApiError> ParsePermissions(const Json& value) {
  const ApiError not_strings{400, "invalid_argument", "permissions must be an array of strings"};
  if (!value.is_array()) return std::unexpected(not_strings);
  core::Permissions perms = 0;
  for (const Json& p : value) {
    if (!p.is_string()) return std::unexpected(not_strings);
    auto parsed = core::ParsePermission(p.get_ref<const std::string&>());
    if (!parsed) return std::unexpected(ApiError{400, "invalid_argument", parsed.error().detail});
    perms |= *parsed;
  }
  return perms;
}

Json UserJson(const core::User& u) {
  Json j;
  j["id"] = u.id;
  j["email"] = u.email;
  j["tier"] = u.tier;
  j["status"] = core::ToString(u.status);
  j["created_at"] = core::FormatRfc3339(u.created_at);
  return j;
}

// A whole decimal number within [lo, hi], nothing else ("1e3", "+5", " 5" are not).
std::optional<int> ParseIntIn(std::string_view s, int lo, int hi) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value < lo || value > hi) {
    return std::nullopt;
  }
  return value;
}

// One granularity of /stats/timeseries: its bucket length, default length in buckets and the
// longest range served (minutes are kept only core::kMinuteRetention).
struct SeriesShape {
  core::Granularity granularity;
  std::string_view name;
  core::Micros step;
  std::int64_t default_points;
  std::int64_t max_points;
  std::string_view max_span;
};
constexpr core::Micros kMicrosPerDay = 24 * core::kMicrosPerHour;
// 0000-01-01 and 10000-01-01, the bounds of what RFC 3339 can write.
constexpr core::Micros kEarliestInstant = -62'167'219'200 * core::kMicrosPerSecond;
constexpr core::Micros kLatestInstant = 253'402'300'800 * core::kMicrosPerSecond;
constexpr std::array<SeriesShape, 3> kSeriesShapes = {{
    {core::Granularity::kMinute, "minute", core::kMicrosPerMinute, 60,
     core::kMinuteRetention / core::kMicrosPerMinute, "48 hours"},
    {core::Granularity::kHour, "hour", core::kMicrosPerHour, 48, 31 * 24, "31 days"},
    {core::Granularity::kDay, "day", kMicrosPerDay, 30, 366, "366 days"},
}};

const SeriesShape* FindSeriesShape(std::string_view name) {
  for (const SeriesShape& shape : kSeriesShapes) {
    if (shape.name == name) return &shape;
  }
  return nullptr;
}

// Rounds down (up) to a multiple of `step`, also before 1970.
core::Micros FloorTo(core::Micros t, core::Micros step) {
  core::Micros q = t / step;
  if (t % step < 0) --q;
  return q * step;
}
core::Micros CeilTo(core::Micros t, core::Micros step) {
  const core::Micros down = FloorTo(t, step);
  return down == t ? t : down + step;
}

// A time series bound: an RFC 3339 date-time, or a date meaning its midnight (UTC).
std::optional<core::Micros> ParseInstant(std::string_view s) {
  if (s.size() == 10) {
    auto date = core::ParseDate(s);
    if (!date) return std::nullopt;
    return core::StartOf(*date);
  }
  auto t = core::ParseRfc3339(s);
  if (!t) return std::nullopt;
  return *t;
}

Json KeyJson(const core::ApiKey& k) {
  Json j;
  j["id"] = k.id;
  j["name"] = k.name;
  j["prefix"] = k.prefix;
  j["permissions"] = PermissionsJson(k.permissions);
  j["created_at"] = core::FormatRfc3339(k.created_at);
  j["expires_at"] = TimeOrNull(k.expires_at);
  j["revoked_at"] = TimeOrNull(k.revoked_at);
  j["last_used_at"] = TimeOrNull(k.last_used_at);
  return j;
}

}  // namespace

Json Api::Impl::LinkJson(const core::Link& link) const {
  Json j;
  j["code"] = link.code;
  j["short_url"] = o_.base_url + "/" + link.code;
  j["url"] = link.url;
  j["created_at"] = core::FormatRfc3339(link.created_at);
  j["expires_at"] = TimeOrNull(link.expires_at);
  j["redirect_type"] = static_cast<int>(link.redirect_type);
  j["is_custom"] = link.is_custom;
  Json metadata = Json::parse(link.metadata_json, nullptr, false);
  j["metadata"] = metadata.is_discarded() ? Json::object() : metadata;
  j["click_count"] = link.click_count;
  return j;
}

Response Api::Impl::CreateLink(const service::Principal& who, const Request& req, Reply& reply) {
  auto body = ParseObject(req.body);
  if (!body) return reply.Error(body.error());
  if (auto bad = RejectUnknownFields(
          *body, {"url", "custom_code", "expires_at", "expires_in", "redirect_type", "metadata"})) {
    return reply.Error(*bad);
  }
  service::CreateLinkInput input;
  const auto field = [&](const char* name) -> const Json* {
    auto it = body->find(name);
    return it == body->end() || it->is_null() ? nullptr : &*it;
  };
  const Json* url = field("url");
  if (!url) return reply.Error(400, "invalid_url", "url is required");
  if (!url->is_string()) return reply.Error(400, "invalid_url", "url must be a string");
  input.url = url->get<std::string>();
  if (const Json* code = field("custom_code")) {
    if (!code->is_string()) {
      return reply.Error(400, "invalid_code", "custom_code must be a string");
    }
    input.custom_code = code->get<std::string>();
  }
  const Json* expires_at = field("expires_at");
  const Json* expires_in = field("expires_in");
  if (expires_at && expires_in) {
    return reply.Error(400, "invalid_argument", "give expires_at or expires_in, not both");
  }
  if (expires_at) {
    if (!expires_at->is_string()) {
      return reply.Error(400, "invalid_argument", "expires_at must be an RFC 3339 date-time");
    }
    auto t = core::ParseRfc3339(expires_at->get_ref<const std::string&>());
    if (!t) {
      return reply.Error(400, "invalid_argument",
                         "expires_at must be an RFC 3339 date-time such as 2027-01-01T00:00:00Z");
    }
    input.expires_at = *t;
  }
  if (expires_in) {
    if (!expires_in->is_number_integer() || expires_in->get<std::int64_t>() <= 0 ||
        expires_in->get<std::int64_t>() > kMaxExpiresInSeconds) {
      return reply.Error(400, "invalid_argument",
                         "expires_in must be a whole number of seconds greater than 0");
    }
    input.expires_at = d_.clock.Now() + expires_in->get<std::int64_t>() * core::kMicrosPerSecond;
  }
  if (const Json* type = field("redirect_type")) {
    const int t = type->is_number_integer() ? type->get<int>() : 0;
    if (t != 301 && t != 302 && t != 307) {
      return reply.Error(400, "invalid_argument", "redirect_type must be 301, 302 or 307");
    }
    input.redirect_type = static_cast<core::RedirectType>(t);
  }
  if (const Json* metadata = field("metadata")) {
    if (!metadata->is_object()) {
      return reply.Error(400, "invalid_argument", "metadata must be a JSON object");
    }
    input.metadata_json = metadata->dump(-1, ' ', false, Json::error_handler_t::replace);
    if (input.metadata_json.size() > kMaxMetadataBytes) {
      return reply.Error(400, "invalid_argument", "metadata must be at most 4096 bytes of JSON");
    }
  }
  auto created = d_.links.Create(who, std::move(input));
  if (!created) return reply.Error(FromError(created.error()));
  Response out = reply.Json(created->created ? 201 : 200, LinkJson(created->link));
  out.headers.emplace_back("Location", "/v1/urls/" + created->link.code);
  return out;
}

Response Api::Impl::ListLinks(const service::Principal& who, const Request& req, Reply& reply) {
  int limit = kDefaultListLimit;
  if (auto raw = QueryParam(req.query, "limit")) {
    const auto [ptr, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), limit);
    if (ec != std::errc() || ptr != raw->data() + raw->size() || limit < 1 ||
        limit > kMaxListLimit) {
      return reply.Error(400, "invalid_argument", "limit must be a whole number from 1 to 1000");
    }
  }
  std::optional<core::ListCursor> after;
  if (auto raw = QueryParam(req.query, "cursor"); raw && !raw->empty()) {
    after = DecodeCursor(*raw);
    if (!after) {
      return reply.Error(400, "invalid_argument",
                         "cursor is not one this API returned (use next_cursor as given)");
    }
  }
  auto page = d_.links.List(who, after, limit);
  if (!page) return reply.Error(FromError(page.error()));
  Json body;
  body["items"] = Json::array();
  for (const core::Link& link : page->items) body["items"].push_back(LinkJson(link));
  body["next_cursor"] = page->next ? Json(EncodeCursor(*page->next)) : Json(nullptr);
  return reply.Json(200, body);
}

Response Api::Impl::LinkStats(const service::Principal& who, std::string_view code,
                              const Request& req, Reply& reply) {
  auto link = d_.links.Get(who, code);
  if (!link) return reply.Error(FromError(link.error()));
  const core::Date today = core::DateOf(d_.clock.Now());
  core::Date to = today;
  core::Date from{today.days - (kDefaultStatsDays - 1)};
  if (auto raw = QueryParam(req.query, "to")) {
    auto d = core::ParseDate(*raw);
    if (!d) return reply.Error(400, "invalid_argument", "to must be a date like 2026-11-27");
    to = *d;
    if (!QueryParam(req.query, "from")) from = core::Date{to.days - (kDefaultStatsDays - 1)};
  }
  if (auto raw = QueryParam(req.query, "from")) {
    auto d = core::ParseDate(*raw);
    if (!d) return reply.Error(400, "invalid_argument", "from must be a date like 2026-11-01");
    from = *d;
  }
  if (from > to) return reply.Error(400, "invalid_argument", "from must not be after to");
  if (to.days - from.days + 1 > kMaxStatsDays) {
    return reply.Error(400, "invalid_argument", "the range may span at most 366 days");
  }
  int top = kDefaultTop;
  if (auto raw = QueryParam(req.query, "top")) {
    auto parsed = ParseIntIn(*raw, 1, kMaxTop);
    if (!parsed) {
      return reply.Error(400, "invalid_argument", "top must be a whole number from 1 to 1000");
    }
    top = *parsed;
  }
  auto stats = d_.stats.Stats(code, from, to);
  if (!stats) return reply.Error(FromError(stats.error()));
  Json body;
  body["code"] = link->code;
  body["total_clicks"] = stats->total_clicks;
  body["bot_clicks"] = stats->bot_clicks;
  body["unique_visitors"] = stats->unique_visitors;
  body["from"] = core::FormatDate(from);
  body["to"] = core::FormatDate(to);
  body["daily"] = Json::array();
  for (const core::DailyCount& day : stats->daily) {
    Json d;
    d["date"] = core::FormatDate(day.date);
    d["clicks"] = day.clicks;
    d["unique_visitors"] = day.unique_visitors;
    d["bot_clicks"] = day.bot_clicks;
    body["daily"].push_back(std::move(d));
  }
  for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
    const core::Breakdown& values = stats->breakdowns[i];
    Json list = Json::array();
    for (std::size_t k = 0; k < values.size() && k < static_cast<std::size_t>(top); ++k) {
      Json v;
      v["value"] = values[k].value;
      v["clicks"] = values[k].clicks;
      list.push_back(std::move(v));
    }
    body[std::string(core::DimensionName(static_cast<core::Dimension>(i)))] = std::move(list);
  }
  if (d_.realtime != nullptr) {
    if (auto rt = d_.realtime->Read(code, d_.clock.Now())) {
      Json r;
      r["clicks"] = rt->clicks;
      r["clicks_last_hour"] = rt->clicks_last_hour;
      r["visitors_today"] = rt->visitors_today;
      body["realtime"] = std::move(r);
    }
  }
  return reply.Json(200, body);
}

Response Api::Impl::LinkTimeseries(const service::Principal& who, std::string_view code,
                                   const Request& req, Reply& reply) {
  auto link = d_.links.Get(who, code);
  if (!link) return reply.Error(FromError(link.error()));
  const SeriesShape* shape = &kSeriesShapes[1];  // hour
  if (auto raw = QueryParam(req.query, "granularity")) {
    shape = FindSeriesShape(*raw);
    if (!shape) {
      return reply.Error(400, "invalid_argument", "granularity must be minute, hour or day");
    }
  }
  const core::Micros step = shape->step;
  std::optional<core::Micros> from;
  std::optional<core::Micros> to;
  if (auto raw = QueryParam(req.query, "from")) {
    from = ParseInstant(*raw);
    if (!from) {
      return reply.Error(400, "invalid_argument",
                         "from must be an RFC 3339 date-time such as 2026-11-28T04:00:00Z or a "
                         "date such as 2026-11-28");
    }
  }
  if (auto raw = QueryParam(req.query, "to")) {
    to = ParseInstant(*raw);
    if (!to) {
      return reply.Error(400, "invalid_argument",
                         "to must be an RFC 3339 date-time such as 2026-11-28T05:00:00Z or a "
                         "date such as 2026-11-29");
    }
  }
  // Defaults: the last default_points buckets, the current (unfinished) one included.
  if (!to) to = FloorTo(d_.clock.Now(), step) + step;
  if (!from) from = CeilTo(*to, step) - shape->default_points * step;
  if (*from >= *to) {
    return reply.Error(400, "invalid_argument", "from must be before to (to is exclusive)");
  }
  // Every bucket that overlaps [from, to).
  const core::Micros start = FloorTo(*from, step);
  const core::Micros end = CeilTo(*to, step);
  const std::int64_t count = (end - start) / step;
  if (start < kEarliestInstant || end >= kLatestInstant) {
    return reply.Error(400, "invalid_argument", "from and to must lie in the years 0000 to 9999");
  }
  if (count > shape->max_points) {
    return reply.Error(400, "invalid_argument",
                       "a " + std::string(shape->name) + " series may span at most " +
                           std::string(shape->max_span) + " (" + std::to_string(shape->max_points) +
                           " points)");
  }
  auto series = d_.stats.Series(code, shape->granularity, start, end);
  if (!series) return reply.Error(FromError(series.error()));
  std::vector<core::BucketCount> points(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < points.size(); ++i) {
    points[i].start = start + static_cast<core::Micros>(i) * step;
  }
  for (const core::BucketCount& bucket : *series) {
    if (bucket.start < start || bucket.start >= end) continue;
    core::BucketCount& point = points[static_cast<std::size_t>((bucket.start - start) / step)];
    point.clicks += bucket.clicks;
    point.bot_clicks += bucket.bot_clicks;
  }
  Json body;
  body["code"] = link->code;
  body["granularity"] = shape->name;
  body["from"] = core::FormatRfc3339(start);
  body["to"] = core::FormatRfc3339(end);
  Json list = Json::array();
  for (const core::BucketCount& point : points) {
    Json p;
    p["start"] = core::FormatRfc3339(point.start);
    p["clicks"] = point.clicks;
    p["bot_clicks"] = point.bot_clicks;
    list.push_back(std::move(p));
  }
  body["points"] = std::move(list);
  return reply.Json(200, body);
}

Response Api::Impl::CreateKey(const service::Principal& who, const Request& req, Reply& reply) {
  auto body = ParseObject(req.body);
  if (!body) return reply.Error(body.error());
  if (auto bad = RejectUnknownFields(*body, {"name", "permissions"})) return reply.Error(*bad);
  std::string name;
  if (auto it = body->find("name"); it != body->end() && !it->is_null()) {
    if (!it->is_string()) return reply.Error(400, "invalid_argument", "name must be a string");
    name = it->get<std::string>();
  }
  core::Permissions perms = core::kDefaultUserPermissions & who.permissions;
  if (auto it = body->find("permissions"); it != body->end() && !it->is_null()) {
    auto parsed = ParsePermissions(*it);
    if (!parsed) return reply.Error(parsed.error());
    perms = *parsed;
  }
  auto created = d_.accounts.CreateKey(who, std::move(name), perms);
  if (!created) return reply.Error(FromError(created.error()));
  Json j = KeyJson(created->key);
  j["key"] = created->secret;
  Response out = reply.Json(201, j);
  out.headers.emplace_back("Location", "/v1/api-keys/" + std::to_string(created->key.id));
  return out;
}

Response Api::Impl::ListKeys(const service::Principal& who, Reply& reply) {
  auto keys = d_.accounts.ListKeys(who);
  if (!keys) return reply.Error(FromError(keys.error()));
  Json body;
  body["items"] = Json::array();
  for (const core::ApiKey& k : *keys) body["items"].push_back(KeyJson(k));
  return reply.Json(200, body);
}

Response Api::Impl::CreateUser(const Request& req, Reply& reply) {
  auto body = ParseObject(req.body);
  if (!body) return reply.Error(body.error());
  if (auto bad = RejectUnknownFields(*body, {"email", "tier"})) return reply.Error(*bad);
  auto email = body->find("email");
  if (email == body->end() || !email->is_string()) {
    return reply.Error(400, "invalid_argument", "email is required and must be a string");
  }
  std::string tier = "free";
  if (auto it = body->find("tier"); it != body->end() && !it->is_null()) {
    if (!it->is_string()) return reply.Error(400, "invalid_argument", "tier must be a string");
    tier = it->get<std::string>();
  }
  auto created = d_.accounts.CreateUser(email->get<std::string>(), std::move(tier));
  if (!created) {
    if (created.error().code == ErrorCode::kConflict) {
      return reply.Error(409, "email_taken", created.error().detail);
    }
    return reply.Error(FromError(created.error()));
  }
  Json j = UserJson(created->user);
  j["api_key"] = created->first_key.secret;
  Response out = reply.Json(201, j);
  out.headers.emplace_back("Location", "/v1/users/" + std::to_string(created->user.id));
  return out;
}

Response Api::Impl::ListUsers(Reply& reply) {
  auto users = d_.accounts.ListUsers();
  if (!users) return reply.Error(FromError(users.error()));
  Json body;
  body["items"] = Json::array();
  for (const core::User& u : *users) body["items"].push_back(UserJson(u));
  return reply.Json(200, body);
}

Response Api::Impl::GetUser(std::string_view id_text, Reply& reply) {
  auto id = ParsePositiveId(id_text);
  if (!id) return reply.Error(404, "not_found", "no user with this id");
  auto user = d_.accounts.FindUser(*id);
  if (!user) return reply.Error(FromError(user.error()));
  return reply.Json(200, UserJson(*user));
}

Response Api::Impl::PatchUser(const service::Principal& who, std::string_view id_text,
                              const Request& req, Reply& reply) {
  auto id = ParsePositiveId(id_text);
  if (!id) return reply.Error(404, "not_found", "no user with this id");
  auto body = ParseObject(req.body);
  if (!body) return reply.Error(body.error());
  if (auto bad = RejectUnknownFields(*body, {"status"})) return reply.Error(*bad);
  auto status = body->find("status");
  if (status == body->end() || !status->is_string() ||
      (*status != "active" && *status != "suspended")) {
    return reply.Error(400, "invalid_argument", "status must be \"active\" or \"suspended\"");
  }
  auto user = d_.accounts.SetUserStatus(
      who, *id, *status == "active" ? core::UserStatus::kActive : core::UserStatus::kSuspended);
  if (!user) return reply.Error(FromError(user.error()));
  return reply.Json(200, UserJson(*user));
}

}  // namespace kurz::http
