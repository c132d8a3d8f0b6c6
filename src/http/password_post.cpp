#include "http/password_post.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <utility>

#include "core/ip.hpp"
#include "core/redirect.hpp"
#include "http/error_body.hpp"
#include "http/password_page.hpp"
#include "http/redirect.hpp"
#include "service/crypto.hpp"

namespace kurz::http {
namespace {

constexpr std::string_view kFormType = "application/x-www-form-urlencoded";

// The media type, parameters (charset) and case aside, is the form's.
bool IsFormBody(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return std::ranges::equal(type, kFormType, [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
}

// A POST answer must never be kept by anyone: the right password's redirect included.
void NoStore(Response& response) {
  for (auto& [name, value] : response.headers) {
    if (name == "Cache-Control") value = "no-store";
  }
}

Response ErrorWith(Reply& reply, int status, std::string_view code, std::string_view message,
                   std::pair<std::string, std::string> header) {
  Response r = reply.Text(status, "application/json", ErrorBody(code, message));
  r.headers.push_back(std::move(header));
  return r;
}

// The client as the failure limit knows it: its 16 address bytes in hex (no text form of IPs is
// needed elsewhere, and this one has no separators to confuse keys).
std::string ClientKey(const ApiContext& ctx, const Request& r) {
  const core::IpAddress ip =
      core::ClientIp(r.peer_ip, r.forwarded_for, ctx.options.trusted_proxies);
  return service::ToHex(std::string_view(reinterpret_cast<const char*>(ip.data()), ip.size()));
}

Response Refused(Reply& reply, core::Micros retry_after) {
  const std::int64_t seconds = std::max<std::int64_t>(
      1, (retry_after + core::kMicrosPerSecond - 1) / core::kMicrosPerSecond);
  return ErrorWith(reply, 429, "rate_limited",
                   "too many wrong passwords for this link from your address; retry in " +
                       std::to_string(seconds) + " s",
                   {"Retry-After", std::to_string(seconds)});
}

// On a worker: everything after the form was read.
Response Answer(ApiContext& ctx, const Request& r, Reply& reply, const std::string& password) {
  const std::string_view code = r.path.substr(1);
  auto value = ctx.deps.links.Resolve(code);
  if (!value) return reply.Error(FromError(value.error()));
  const core::Micros now = ctx.deps.clock.Now();
  const core::RedirectRequest facts{false, r.accept, r.user_agent};
  const bool live = value->state == core::LinkState::kActive &&
                    (value->expires_at == 0 || value->expires_at > now);
  if (!live) {  // unknown, deleted, expired: what GET answers
    Response out = reply.Redirect(core::AnswerRedirect(value->View(), now, facts));
    NoStore(out);
    return out;
  }
  if (value->options == nullptr || value->options->password_hash.empty()) {
    return ErrorWith(reply, 405, "method_not_allowed",
                     "this link has no password: POST is only for the password form",
                     {"Allow", "GET, HEAD"});
  }
  if (ctx.deps.passwords == nullptr) {
    return reply.Error(503, "unavailable", "this server cannot check link passwords");
  }
  const std::string client = ClientKey(ctx, r);
  const service::PasswordGuard::Try attempt = ctx.password_guard.Begin(client, code);
  if (!attempt.allowed) return Refused(reply, attempt.retry_after);
  auto right = ctx.deps.passwords->Verify(value->options->password_hash, password);
  if (!right) {
    ctx.password_guard.Forgive(attempt, client, code);  // the visitor's try was never judged
    return reply.Error(500, "internal", "this link's password cannot be checked");
  }
  if (!*right) {
    if (facts.WantsJson()) {
      return reply.Text(401, "application/json",
                        ErrorBody("password_required", "the password is not right"));
    }
    return PasswordFormResponse(reply, 401, code, r.query, true);
  }
  ctx.password_guard.Forgive(attempt, client, code);
  Response out = AnswerLinkWithOptions(ctx, r, reply, code, *value, ctx.deps.clock.Now(), true);
  NoStore(out);
  return out;
}

}  // namespace

Response PasswordFormResponse(Reply& reply, int status, std::string_view code,
                              std::string_view query, bool wrong_try) {
  Response r = reply.Text(status, "text/html; charset=utf-8", PasswordPage(code, wrong_try, query));
  r.headers.emplace_back("Content-Security-Policy", std::string(kPasswordPageCsp));
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

void PasswordPost(ApiContext& ctx, const Request& req, Responder& res,
                  std::string_view request_id) {
  Reply reply{std::string(request_id)};
  std::optional<ApiError> refused;
  std::optional<std::string> password;
  if (!IsFormBody(req.content_type)) {
    refused = ApiError{415, "unsupported_media_type",
                       "send the form as 'Content-Type: application/x-www-form-urlencoded'"};
  } else if (req.body.size() > kMaxPasswordFormBytes) {
    refused =
        ApiError{413, "payload_too_large",
                 "the form is larger than " + std::to_string(kMaxPasswordFormBytes) + " bytes"};
  } else if (password = FormField(req.body, "password"); !password) {
    refused = ApiError{400, "invalid_argument",
                       "the form field 'password' is missing or badly percent-encoded"};
  }
  if (refused) {
    ctx.answers.SendNow(ctx.redirect_route, res, reply.Error(*refused));
    return;
  }
  // Resolving may read the store and verifying takes tens of milliseconds: both on a worker.
  ctx.answers.Defer(ctx.deps.workers, ctx.redirect_route, req, res, request_id,
                    [&ctx, password = std::move(*password)](const Request& r, Reply& out) {
                      return Answer(ctx, r, out, password);
                    });
}

}  // namespace kurz::http
