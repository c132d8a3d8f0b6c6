#include "http/api.hpp"

#include <string>

#include "http/error_body.hpp"
#include "http/handlers/context.hpp"
#include "http/redirect.hpp"
#include "http/route_table.hpp"

// The front of the HTTP face: matches the route table (http/routes.cpp), answers 404/405,
// runs the middleware (http/middleware.hpp) and hands the request to its handler; every other
// path is a redirect (http/redirect.cpp).

namespace kurz::http {

ApiContext::ApiContext(ApiDeps d, ApiOptions o, int loops)
    : deps(std::move(d)),
      options(std::move(o)),
      redirect_route(metrics.Register("redirect")),
      ids(options.click_id_prefix, loops),
      api_limit(options.rate_limit_api, deps.shared_limits, deps.clock),
      redirect_limiter(options.rate_limit_redirect),
      password_guard(deps.clock, deps.shared_attempts),
      answers(metrics) {
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
}

class Api::Impl {
 public:
  Impl(ApiDeps deps, ApiOptions options, int loops)
      : ctx_(std::move(deps), std::move(options), loops),
        table_(ApiRoutes(), ctx_.metrics),
        other_route_(ctx_.metrics.Register("other")) {}

  void Handle(const Request& req, Responder& res);
  void ProtocolError(int status, std::string_view code, std::string_view message, Responder& res);

 private:
  using Match = RouteTable<ApiRoute>::Match;
  void Answer(const Match& match, const Request& req, Responder& res, std::string_view id);
  Response Run(const ApiRoute& row, const PathParams& params, const Request& req, Reply& reply);
  void SendError(RouteId route, Responder& res, std::string_view id, int status,
                 std::string_view code, std::string_view message, std::string_view allow = {});

  ApiContext ctx_;
  RouteTable<ApiRoute> table_;
  RouteId other_route_;
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
  ctx_.ids.Fresh(request_id);
  const std::string body = ErrorBody(code, message);
  const Header headers[] = {{"X-Request-Id", request_id},
                            {"Content-Type", "application/json"},
                            {"Cache-Control", "no-store"}};
  res.Send(status, headers, body);
  ctx_.metrics.Record(other_route_, status, 0);
}

void Api::Impl::SendError(RouteId route, Responder& res, std::string_view id, int status,
                          std::string_view code, std::string_view message, std::string_view allow) {
  const std::string body = ErrorBody(code, message);
  const Header headers[] = {{"X-Request-Id", id},
                            {"Content-Type", "application/json"},
                            {"Cache-Control", "no-store"},
                            {"Allow", allow}};
  ctx_.answers.SendNow(route, res, status, std::span(headers, allow.empty() ? 3 : 4), body);
}

void Api::Impl::Handle(const Request& req, Responder& res) {
  const auto match = table_.Find(req.method, req.path);
  if (!match) {
    if (req.path == "/v1" || req.path.starts_with("/v1/")) {
      SendError(other_route_, res, ctx_.ids.For(req), 404, "not_found", "no such API endpoint");
      return;
    }
    Redirect(ctx_, req, res);
    return;
  }
  const std::string_view id = ctx_.ids.For(req);
  if (match->row == nullptr) {
    SendError(match->id, res, id, 405, "method_not_allowed",
              std::string(req.method_text) + " is not allowed here", match->allow);
    return;
  }
  if (req.body.size() > MaxBodyOf(*match->row)) {
    SendError(match->id, res, id, 413, "payload_too_large",
              "request body larger than " + std::to_string(MaxBodyOf(*match->row)) + " bytes");
    return;
  }
  Answer(*match, req, res, id);
}

void Api::Impl::Answer(const Match& match, const Request& req, Responder& res,
                       std::string_view id) {
  const ApiRoute& row = *match.row;
  if (row.runs == Runs::kOnLoop) {
    Reply reply{std::string(id)};
    ctx_.answers.SendNow(match.id, res, Run(row, match.params, req, reply));
    return;
  }
  ctx_.answers.Defer(ctx_.deps.workers, match.id, req, res, id,
                     [this, &row, params = match.params](const Request& r, Reply& reply) {
                       return Run(row, params, r, reply);
                     });
}

Response Api::Impl::Run(const ApiRoute& row, const PathParams& params, const Request& req,
                        Reply& reply) {
  if (row.permit.kind == Permit::Kind::kPublic) {
    return row.handler(ctx_, Call{req, params, nullptr, reply});
  }
  return RunGuarded(ctx_.deps.accounts, ctx_.api_limit, row.permit, req, reply,
                    [&](const service::Principal& who) {
                      return row.handler(ctx_, Call{req, params, &who, reply});
                    });
}

}  // namespace kurz::http
