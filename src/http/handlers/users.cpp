#include <string>

#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/query.hpp"

// /v1/users: accounts, for admin keys.

namespace kurz::http::handlers {

Response CreateUser(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  auto body = ParseObject(call.request.body);
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
  auto created = ctx.deps.accounts.CreateUser(email->get<std::string>(), std::move(tier));
  if (!created) {
    if (created.error().code == core::ErrorCode::kConflict) {
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

Response ListUsers(ApiContext& ctx, const Call& call) {
  auto users = ctx.deps.accounts.ListUsers();
  if (!users) return call.reply.Error(FromError(users.error()));
  Json body;
  body["items"] = Json::array();
  for (const core::User& u : *users) body["items"].push_back(UserJson(u));
  return call.reply.Json(200, body);
}

Response GetUser(ApiContext& ctx, const Call& call) {
  auto id = ParsePositiveId(call.params[0]);
  if (!id) return call.reply.Error(404, "not_found", "no user with this id");
  auto user = ctx.deps.accounts.FindUser(*id);
  if (!user) return call.reply.Error(FromError(user.error()));
  return call.reply.Json(200, UserJson(*user));
}

Response PatchUser(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  auto id = ParsePositiveId(call.params[0]);
  if (!id) return reply.Error(404, "not_found", "no user with this id");
  auto body = ParseObject(call.request.body);
  if (!body) return reply.Error(body.error());
  if (auto bad = RejectUnknownFields(*body, {"status"})) return reply.Error(*bad);
  auto status = body->find("status");
  if (status == body->end() || !status->is_string() ||
      (*status != "active" && *status != "suspended")) {
    return reply.Error(400, "invalid_argument", R"(status must be "active" or "suspended")");
  }
  auto user = ctx.deps.accounts.SetUserStatus(
      *call.who, *id,
      *status == "active" ? core::UserStatus::kActive : core::UserStatus::kSuspended);
  if (!user) return reply.Error(FromError(user.error()));
  return reply.Json(200, UserJson(*user));
}

}  // namespace kurz::http::handlers
