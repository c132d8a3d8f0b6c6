#pragma once

#include <span>
#include <string_view>

#include "http/answer.hpp"
#include "http/api.hpp"
#include "http/metrics.hpp"
#include "http/middleware.hpp"
#include "http/reply.hpp"
#include "http/route_table.hpp"
#include "service/password_guard.hpp"
#include "service/rate_limiter.hpp"

// What the kurz API's handlers share: the dependencies, options and per-process state, the
// request they answer, and the row type of the route table (http/routes.cpp).

namespace kurz::http {

struct ApiContext {
  ApiContext(ApiDeps d, ApiOptions o, int loops);

  ApiDeps deps;
  ApiOptions options;  // base_url without a trailing '/'
  Metrics metrics;
  RouteId redirect_route;  // registered first: "redirect"
  RequestIds ids;
  ApiRateLimit api_limit;
  service::RateLimiter redirect_limiter;
  service::PasswordGuard password_guard;  // POST /{code}: the wrong-password limit
  Answerer answers;
};

// One request as a handler sees it.
struct Call {
  const Request& request;
  const PathParams& params;       // the pattern's {…} segments, in order
  const service::Principal* who;  // the caller; null on Permit::Public() routes
  Reply& reply;
};

using RouteHandler = Response (*)(ApiContext& ctx, const Call& call);

// One row of a route table.
struct ApiRoute {
  Method method;
  std::string_view pattern;  // e.g. "/v1/urls/{code}/stats"
  std::string_view name;     // the `route` label of kurz_http_requests_total
  Permit permit;
  Runs runs;
  RouteHandler handler;
};

// The body bound of a route (kMaxBody, or kMaxRequestBody for bulk; http/api.hpp).
std::size_t MaxBodyOf(const ApiRoute& route);

// The kurz API (API.md, docs/openapi.json) and the operations endpoints; the redirect
// (GET /{code}, http/redirect.hpp) is the fallback for every path that matches none.
std::span<const ApiRoute> ApiRoutes();

}  // namespace kurz::http
