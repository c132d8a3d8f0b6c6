#include <string>

#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/query.hpp"

// /v1/api-keys: a user's keys. A key sees, creates and revokes only keys within its own
// permissions (AccountService); the rows require a key with at least one permission.

namespace kurz::http::handlers {

Response CreateKey(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  const service::Principal& who = *call.who;
  auto body = ParseObject(call.request.body);
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
  auto created = ctx.deps.accounts.CreateKey(who, std::move(name), perms);
  if (!created) return reply.Error(FromError(created.error()));
  Json j = KeyJson(created->key);
  j["key"] = created->secret;
  Response out = reply.Json(201, j);
  out.headers.emplace_back("Location", "/v1/api-keys/" + std::to_string(created->key.id));
  return out;
}

Response ListKeys(ApiContext& ctx, const Call& call) {
  auto keys = ctx.deps.accounts.ListKeys(*call.who);
  if (!keys) return call.reply.Error(FromError(keys.error()));
  Json body;
  body["items"] = Json::array();
  for (const core::ApiKey& k : *keys) body["items"].push_back(KeyJson(k));
  return call.reply.Json(200, body);
}

Response RevokeKey(ApiContext& ctx, const Call& call) {
  auto id = ParsePositiveId(call.params[0]);
  if (!id) return call.reply.Error(404, "not_found", "no active API key with this id");
  auto revoked = ctx.deps.accounts.RevokeKey(*call.who, *id);
  if (!revoked) return call.reply.Error(FromError(revoked.error()));
  return call.reply.Empty(204);
}

}  // namespace kurz::http::handlers
