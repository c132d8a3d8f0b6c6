#include <array>

#include "http/handlers/handlers.hpp"

// The route table of the kurz API. To add an endpoint: write its handler in handlers/<resource>
// .cpp (declared in handlers/handlers.hpp), add one row here, and document it in
// docs/openapi.json (tests/http/routes_test.cpp checks that both list the same routes).

namespace kurz::http {

namespace {

using core::kPermAdmin;
using core::kPermCreate;
using core::kPermDelete;
using core::kPermRead;
using core::kPermUpdate;
namespace h = handlers;
constexpr Runs kLoop = Runs::kOnLoop;
constexpr Runs kWorker = Runs::kOnWorker;

// Rows that share a pattern share a name; HEAD is answered wherever GET is.
constexpr std::array kRoutes = {
    ApiRoute{Method::kGet, "/healthz", "healthz", Permit::Public(), kLoop, h::Health},
    ApiRoute{Method::kGet, "/readyz", "readyz", Permit::Public(), kWorker, h::Ready},
    ApiRoute{Method::kGet, "/metrics", "metrics", Permit::Public(), kLoop, h::MetricsText},
    ApiRoute{Method::kGet, "/v1/openapi.json", "openapi", Permit::Public(), kLoop, h::OpenApi},
    ApiRoute{Method::kGet, "/.well-known/apple-app-site-association",
             "/.well-known/apple-app-site-association", Permit::Public(), kLoop,
             h::AppleAppSiteAssociation},
    ApiRoute{Method::kGet, "/.well-known/assetlinks.json", "/.well-known/assetlinks.json",
             Permit::Public(), kLoop, h::AssetLinks},

    ApiRoute{Method::kGet, "/v1/urls", "/v1/urls", Permit::Needs(kPermRead), kWorker, h::ListLinks},
    ApiRoute{Method::kPost, "/v1/urls", "/v1/urls", Permit::Needs(kPermCreate), kWorker,
             h::CreateLink},
    // Before /v1/urls/{code}: the first pattern that matches a path wins.
    ApiRoute{Method::kGet, "/v1/urls/export", "/v1/urls/export", Permit::Needs(kPermRead), kWorker,
             h::ExportLinks},
    ApiRoute{Method::kPost, "/v1/urls/bulk", "/v1/urls/bulk", Permit::Needs(kPermCreate), kWorker,
             h::BulkCreateLinks},
    ApiRoute{Method::kGet, "/v1/urls/{code}", "/v1/urls/{code}", Permit::Needs(kPermRead), kWorker,
             h::GetLink},
    ApiRoute{Method::kPatch, "/v1/urls/{code}", "/v1/urls/{code}", Permit::Needs(kPermUpdate),
             kWorker, h::PatchLink},
    ApiRoute{Method::kDelete, "/v1/urls/{code}", "/v1/urls/{code}", Permit::Needs(kPermDelete),
             kWorker, h::DeleteLink},
    ApiRoute{Method::kGet, "/v1/urls/{code}/stats", "/v1/urls/{code}/stats",
             Permit::Needs(kPermRead), kWorker, h::LinkStats},
    ApiRoute{Method::kGet, "/v1/urls/{code}/stats/timeseries", "/v1/urls/{code}/stats/timeseries",
             Permit::Needs(kPermRead), kWorker, h::LinkTimeseries},
    // Drawing a 2048 px PNG takes milliseconds: on a worker, never on a loop.
    ApiRoute{Method::kGet, "/v1/urls/{code}/qr", "/v1/urls/{code}/qr", Permit::Needs(kPermRead),
             kWorker, h::LinkQr},

    ApiRoute{Method::kGet, "/v1/tags", "/v1/tags", Permit::Needs(kPermRead), kWorker, h::ListTags},

    // Keys manage keys within their own permissions (AccountService filters by subset).
    ApiRoute{Method::kGet, "/v1/api-keys", "/v1/api-keys", Permit::AnyPermission(), kWorker,
             h::ListKeys},
    ApiRoute{Method::kPost, "/v1/api-keys", "/v1/api-keys", Permit::AnyPermission(), kWorker,
             h::CreateKey},
    ApiRoute{Method::kDelete, "/v1/api-keys/{id}", "/v1/api-keys/{id}", Permit::AnyPermission(),
             kWorker, h::RevokeKey},

    ApiRoute{Method::kGet, "/v1/users", "/v1/users", Permit::Needs(kPermAdmin), kWorker,
             h::ListUsers},
    ApiRoute{Method::kPost, "/v1/users", "/v1/users", Permit::Needs(kPermAdmin), kWorker,
             h::CreateUser},
    ApiRoute{Method::kGet, "/v1/users/{id}", "/v1/users/{id}", Permit::Needs(kPermAdmin), kWorker,
             h::GetUser},
    ApiRoute{Method::kPatch, "/v1/users/{id}", "/v1/users/{id}", Permit::Needs(kPermAdmin), kWorker,
             h::PatchUser},
};

}  // namespace

std::span<const ApiRoute> ApiRoutes() { return kRoutes; }

std::size_t MaxBodyOf(const ApiRoute& route) {
  return route.handler == h::BulkCreateLinks ? kMaxRequestBody : kMaxBody;
}

}  // namespace kurz::http
