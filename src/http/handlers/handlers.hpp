#pragma once

#include "http/handlers/context.hpp"

// The handlers of the kurz API, one file per resource (see the route table, http/routes.cpp).

namespace kurz::http::handlers {

// links.cpp
Response CreateLink(ApiContext& ctx, const Call& call);
Response ListLinks(ApiContext& ctx, const Call& call);
Response GetLink(ApiContext& ctx, const Call& call);
Response PatchLink(ApiContext& ctx, const Call& call);
Response DeleteLink(ApiContext& ctx, const Call& call);
Response ListTags(ApiContext& ctx, const Call& call);
// bulk.cpp
Response BulkCreateLinks(ApiContext& ctx, const Call& call);
// export.cpp
Response ExportLinks(ApiContext& ctx, const Call& call);
// stats.cpp
Response LinkStats(ApiContext& ctx, const Call& call);
Response LinkTimeseries(ApiContext& ctx, const Call& call);
// qr.cpp
Response LinkQr(ApiContext& ctx, const Call& call);
// keys.cpp
Response CreateKey(ApiContext& ctx, const Call& call);
Response ListKeys(ApiContext& ctx, const Call& call);
Response RevokeKey(ApiContext& ctx, const Call& call);
// users.cpp
Response CreateUser(ApiContext& ctx, const Call& call);
Response ListUsers(ApiContext& ctx, const Call& call);
Response GetUser(ApiContext& ctx, const Call& call);
Response PatchUser(ApiContext& ctx, const Call& call);
// operations.cpp
Response Health(ApiContext& ctx, const Call& call);
Response Ready(ApiContext& ctx, const Call& call);
Response MetricsText(ApiContext& ctx, const Call& call);
Response OpenApi(ApiContext& ctx, const Call& call);
Response AppleAppSiteAssociation(ApiContext& ctx, const Call& call);
Response AssetLinks(ApiContext& ctx, const Call& call);

}  // namespace kurz::http::handlers
