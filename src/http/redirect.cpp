#include "http/redirect.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/click_event.hpp"
#include "core/ip.hpp"
#include "core/short_code.hpp"
#include "http/error_body.hpp"

namespace kurz::http {

namespace {

constexpr std::string_view kNotFoundHtml =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Link not "
    "found</title></head>\n<body><h1>Link not found</h1><p>There is no short link at this "
    "address. Check it for typing mistakes.</p></body></html>\n";
constexpr std::string_view kGoneHtml =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Link "
    "gone</title></head>\n<body><h1>Link gone</h1><p>This short link was deleted or has "
    "expired.</p></body></html>\n";

// The JSON error bodies of the hot path, written once (by ErrorBody) so answering allocates
// nothing.
struct HotPathBodies {
  std::string not_found = ErrorBody("not_found", "no link with this code");
  std::string gone = ErrorBody("gone", "this link was deleted or has expired");
  std::string rate_limited =
      ErrorBody("rate_limited", "too many redirects from this address; retry later");
};
const HotPathBodies& Bodies() {
  static const HotPathBodies bodies;
  return bodies;
}

bool WantsJson(const Request& req) {
  return req.accept.find("application/json") != std::string_view::npos;
}

// The answer for a code with no link (404) or a deleted/expired one (410): an HTML page for
// people, JSON when asked for.
struct MissingLinkPage {
  int status;
  std::string_view content_type;
  std::string_view body;
};
MissingLinkPage MissingLink(const Request& req, bool gone) {
  const bool json = WantsJson(req);
  return {gone ? 410 : 404, json ? "application/json" : "text/html; charset=utf-8",
          gone ? (json ? std::string_view(Bodies().gone) : kGoneHtml)
               : (json ? std::string_view(Bodies().not_found) : kNotFoundHtml)};
}

// The client's address: the peer, or what trusted proxies say it is (core::ClientIp).
core::IpAddress ClientIp(const ApiContext& ctx, const Request& req) {
  return core::ClientIp(req.peer_ip, req.forwarded_for, ctx.options.trusted_proxies);
}

bool IsGetLike(Method m) { return m == Method::kGet || m == Method::kHead; }

void AnswerMissingLink(ApiContext& ctx, const Request& req, Responder& res,
                       std::string_view request_id, bool gone) {
  const MissingLinkPage page = MissingLink(req, gone);
  const Header headers[] = {{"X-Request-Id", request_id},
                            {"Content-Type", page.content_type},
                            {"Cache-Control", "no-store"}};
  ctx.answers.SendNow(ctx.redirect_route, res, page.status, headers, page.body);
}

void RecordClick(ApiContext& ctx, const Request& req, const core::IpAddress& client,
                 std::string_view code, core::Micros now) {
  ctx.deps.clicks.TryPush([&](core::ClickEvent& event) {
    event.id_hi = ctx.options.click_id_prefix;
    event.at = now;
    event.code.Assign(code);
    event.ip = client;
    event.user_agent.Assign(req.user_agent);
    event.referrer.Assign(req.referer);
    event.accept_language.Assign(req.accept_language);
    event.head = req.method == Method::kHead;
  });
}

}  // namespace

void Redirect(ApiContext& ctx, const Request& req, Responder& res) {
  const std::string_view request_id = ctx.ids.For(req);
  if (!IsGetLike(req.method)) {
    const std::string body =
        ErrorBody("method_not_allowed", std::string(req.method_text) + " is not allowed here");
    const Header headers[] = {{"X-Request-Id", request_id},
                              {"Content-Type", "application/json"},
                              {"Cache-Control", "no-store"},
                              {"Allow", "GET, HEAD"}};
    ctx.answers.SendNow(ctx.redirect_route, res, 405, headers, body);
    return;
  }
  // Reserved words need no check here: no link can have one as its code.
  const std::string_view code = req.path.substr(1);
  if (!core::LooksLikeCode(code)) {
    AnswerMissingLink(ctx, req, res, request_id, false);
    return;
  }
  const core::IpAddress client = ClientIp(ctx, req);
  if (ctx.redirect_limiter.enabled()) {
    service::RateLimiter::Key key;
    std::memcpy(&key.hi, client.data(), 8);
    std::memcpy(&key.lo, client.data() + 8, 8);
    const core::GcraDecision decision = ctx.redirect_limiter.Check(key, MonotonicMicros());
    if (!decision.allowed) {
      char retry[24];
      char limit[24];
      char reset[24];
      const auto seconds = [](std::int64_t us) { return (us + 999'999) / 1'000'000; };
      std::snprintf(
          retry, sizeof retry, "%lld",
          static_cast<long long>(std::max<std::int64_t>(1, seconds(decision.retry_after_us))));
      std::snprintf(limit, sizeof limit, "%lld",
                    static_cast<long long>(ctx.redirect_limiter.limit()));
      std::snprintf(reset, sizeof reset, "%lld",
                    static_cast<long long>(seconds(decision.reset_after_us)));
      const Header headers[] = {{"X-Request-Id", request_id},  {"Content-Type", "application/json"},
                                {"Cache-Control", "no-store"}, {"Retry-After", retry},
                                {"RateLimit-Limit", limit},    {"RateLimit-Remaining", "0"},
                                {"RateLimit-Reset", reset}};
      ctx.answers.SendNow(ctx.redirect_route, res, 429, headers, Bodies().rate_limited);
      return;
    }
  }

  const core::Micros now = ctx.deps.clock.Now();
  int status = 0;
  const bool hit = ctx.deps.cache.Lookup(code, now, [&](const service::RedirectCache::Hit& h) {
    if (h.kind != service::CacheKind::kRedirect) {
      status = h.kind == service::CacheKind::kGone ? 410 : 404;
      return;
    }
    status = h.status;
    const Header headers[] = {
        {"Location", h.location},
        {"Cache-Control", status == 301 ? "public, max-age=3600" : "private, max-age=0"},
        {"X-Request-Id", request_id}};
    res.Send(status, headers, {});
  });
  if (hit) {
    if (status == 404 || status == 410) {
      AnswerMissingLink(ctx, req, res, request_id, status == 410);
      return;
    }
    ctx.metrics.RecordImmediate(ctx.redirect_route, status);
    RecordClick(ctx, req, client, code, now);
    return;
  }

  // A miss: the store answers on the worker pool, and fills the cache for the next request.
  WorkerPool& pool = ctx.deps.lookups != nullptr ? *ctx.deps.lookups : ctx.deps.workers;
  ctx.answers.Defer(
      pool, ctx.redirect_route, req, res, request_id, [&ctx](const Request& r, Reply& reply) {
        const std::string_view c = r.path.substr(1);
        auto value = ctx.deps.links.Resolve(c);
        if (!value) return reply.Error(FromError(value.error()));
        if (value->kind == service::CacheKind::kRedirect) {
          const core::Micros when = ctx.deps.clock.Now();
          if (value->expires_at != 0 && value->expires_at <= when) {
            value->kind = service::CacheKind::kGone;
          } else {
            Response out = reply.Redirect(value->status, std::move(value->location));
            RecordClick(ctx, r, ClientIp(ctx, r), c, when);
            return out;
          }
        }
        const MissingLinkPage page = MissingLink(r, value->kind == service::CacheKind::kGone);
        Response out = reply.Empty(page.status);
        out.headers.emplace_back("Content-Type", std::string(page.content_type));
        out.body = std::string(page.body);
        return out;
      });
}

}  // namespace kurz::http
