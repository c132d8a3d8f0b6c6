#include "http/redirect.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/click_event.hpp"
#include "core/ip.hpp"
#include "core/redirect.hpp"
#include "core/short_code.hpp"
#include "core/targeting.hpp"
#include "http/error_body.hpp"
#include "http/link_pages.hpp"
#include "http/password_post.hpp"

namespace kurz::http {

namespace {

// The 429 body of the hot path, written once (by ErrorBody) so answering allocates nothing. (The
// 404/410 pages are the redirect decision's, in core/redirect.hpp.)
const std::string& RateLimitedBody() {
  static const std::string body =
      ErrorBody("rate_limited", "too many redirects from this address; retry later");
  return body;
}

// The client's address: the peer, or what trusted proxies say it is (core::ClientIp).
core::IpAddress ClientIp(const ApiContext& ctx, const Request& req) {
  return core::ClientIp(req.peer_ip, req.forwarded_for, ctx.options.trusted_proxies);
}

bool IsGetLike(Method m) { return m == Method::kGet || m == Method::kHead; }

// Sends what the redirect decision answered: a redirect (no body) or a 404/410 page.
void SendAnswer(Responder& res, std::string_view request_id, const core::RedirectAnswer& answer) {
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

// The visitor's country for targeting rules, looked up only when a rule asks (no allocation).
class CountryOf final : public core::CountryLookup {
 public:
  CountryOf(const ports::GeoLocator* geo, const core::IpAddress& ip) : geo_(geo), ip_(ip) {}
  std::string_view Country() override {
    return geo_ != nullptr ? geo_->CountryCode(ip_) : std::string_view();
  }

 private:
  const ports::GeoLocator* geo_;
  core::IpAddress ip_;
};

// What rules and variants test, built only for links that have them (plain links never pay).
// The sticky key mixes in the code, so that one visitor's variants of different links are
// independent experiments.
struct Targeting {
  Targeting(ApiContext& ctx, const Request& req, const core::IpAddress& client, core::Micros now)
      : country(ctx.deps.geo, client),
        visitor(req.user_agent, req.accept_language,
                core::StickyKey(
                    client, core::DateOf(now),
                    ctx.options.sticky_secret ^ std::hash<std::string_view>{}(req.path.substr(1))),
                now, &country) {}
  CountryOf country;
  core::VisitorFacts visitor;
};

// Whether the visitor is a person for the click budget: HEAD and bots never use one up (the
// same classification the analytics apply, so that the budget and bot_clicks agree).
bool UsesBudget(ApiContext& ctx, const Request& r) {
  if (r.method == Method::kHead) return false;
  return ctx.deps.user_agents == nullptr || !ctx.deps.user_agents->Parse(r.user_agent).is_bot;
}

}  // namespace

Response AnswerLinkWithOptions(ApiContext& ctx, const Request& r, Reply& reply,
                               std::string_view code, const core::ResolvedLink& value,
                               core::Micros now, bool password_verified) {
  core::RedirectRequest facts{r.method == Method::kHead, r.accept, r.user_agent, password_verified};
  std::optional<Targeting> targeting;
  if (value.options != nullptr && value.options->targets()) {
    targeting.emplace(ctx, r, ClientIp(ctx, r), now);
    facts.visitor = &targeting->visitor;
  }
  core::RedirectAnswer answer = core::AnswerRedirect(value.View(), now, facts);
  switch (answer.step) {
    case core::RedirectStep::kPasswordForm: {
      if (facts.WantsJson()) {
        return reply.Error(401, "password_required",
                           "this link has a password: POST it as the form field password");
      }
      return PasswordFormResponse(reply, 200, code, r.query, false);
    }
    case core::RedirectStep::kPreview: {
      const core::OpenGraph og = answer.options != nullptr
                                     ? answer.options->og.value_or(core::OpenGraph{})
                                     : core::OpenGraph{};
      Response out = reply.Text(200, answer.content_type,
                                PreviewPage(og, ctx.options.base_url + "/" + std::string(code)));
      RecordClick(ctx, r, ClientIp(ctx, r), code, now);
      return out;
    }
    case core::RedirectStep::kUseBudget: {
      auto left =
          UsesBudget(ctx, r) ? ctx.deps.links.UseClick(code) : ctx.deps.links.HasClicksLeft(code);
      if (!left) {
        if (left.error().code == core::ErrorCode::kNotFound) {
          return reply.Redirect(core::AnswerRedirect({}, now, facts));
        }
        // Nobody can tell whether a click is left: refuse rather than overrun the budget.
        return reply.Error(FromError(left.error()));
      }
      if (!*left) return reply.Redirect(core::AnswerOver(answer.options, facts));
      break;
    }
    case core::RedirectStep::kSend:
      break;
  }
  std::string location;
  if (answer.forward_query && !r.query.empty()) {
    core::AppendQuery(answer.location, r.query, location);
    answer.location = location;
  }
  Response out = reply.Redirect(answer);
  if (answer.record_click) RecordClick(ctx, r, ClientIp(ctx, r), code, now);
  return out;
}

void Redirect(ApiContext& ctx, const Request& req, Responder& res) {
  const std::string_view request_id = ctx.ids.For(req);
  if (!IsGetLike(req.method) && req.method != Method::kPost) {
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
  const core::RedirectRequest facts{req.method == Method::kHead, req.accept, req.user_agent};
  if (!core::LooksLikeCode(code)) {
    // No link can have this code: the answer of one that is not found.
    const core::RedirectAnswer answer = core::AnswerRedirect({}, 0, facts);
    SendAnswer(res, request_id, answer);
    ctx.metrics.RecordImmediate(ctx.redirect_route, answer.status);
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
      ctx.answers.SendNow(ctx.redirect_route, res, 429, headers, RateLimitedBody());
      return;
    }
  }

  if (req.method == Method::kPost) {  // a password form sent back (http/password_post.hpp)
    PasswordPost(ctx, req, res, request_id);
    return;
  }
  const core::Micros now = ctx.deps.clock.Now();
  int status = 0;
  bool click = false;
  std::shared_ptr<core::ResolvedLink> more;  // a hit that needs more than sending
  const bool hit = ctx.deps.cache.Lookup(code, now, [&](const core::ResolvedLinkView& link) {
    std::optional<Targeting> targeting;
    core::RedirectRequest asked = facts;
    if (link.options != nullptr && link.options->targets()) [[unlikely]] {
      targeting.emplace(ctx, req, client, now);
      asked.visitor = &targeting->visitor;
    }
    const core::RedirectAnswer answer = core::AnswerRedirect(link, now, asked);
    if (answer.step != core::RedirectStep::kSend || (answer.forward_query && !req.query.empty()))
        [[unlikely]] {
      // A password, a preview, a budget or a query to forward: finished on a worker, from a
      // copy (the views die with the lock).
      more = std::make_shared<core::ResolvedLink>(core::ResolvedLink{
          link.state, link.status, std::string(link.location), link.expires_at, link.owner_id,
          link.options != nullptr ? std::make_shared<core::LinkOptions>(*link.options) : nullptr});
      return;
    }
    // Sent under the shard's lock: the answer's Location is a view into the cache entry.
    SendAnswer(res, request_id, answer);
    status = answer.status;
    click = answer.record_click;
  });
  if (hit && more == nullptr) {
    ctx.metrics.RecordImmediate(ctx.redirect_route, status);
    if (click) RecordClick(ctx, req, client, code, now);
    return;
  }
  if (hit) {
    ctx.answers.Defer(ctx.deps.workers, ctx.redirect_route, req, res, request_id,
                      [&ctx, more](const Request& r, Reply& reply) {
                        return AnswerLinkWithOptions(ctx, r, reply, r.path.substr(1), *more,
                                                     ctx.deps.clock.Now(), false);
                      });
    return;
  }

  // A miss: the store answers on the worker pool, and fills the cache for the next request.
  WorkerPool& pool = ctx.deps.lookups != nullptr ? *ctx.deps.lookups : ctx.deps.workers;
  ctx.answers.Defer(pool, ctx.redirect_route, req, res, request_id,
                    [&ctx](const Request& r, Reply& reply) {
                      const std::string_view c = r.path.substr(1);
                      auto value = ctx.deps.links.Resolve(c);
                      if (!value) return reply.Error(FromError(value.error()));
                      const core::Micros when = ctx.deps.clock.Now();
                      if (value->options != nullptr) {
                        return AnswerLinkWithOptions(ctx, r, reply, c, *value, when, false);
                      }
                      const core::RedirectAnswer answer = core::AnswerRedirect(
                          value->View(), when,
                          core::RedirectRequest{r.method == Method::kHead, r.accept, r.user_agent});
                      Response out = reply.Redirect(answer);
                      if (answer.record_click) RecordClick(ctx, r, ClientIp(ctx, r), c, when);
                      return out;
                    });
}

}  // namespace kurz::http
