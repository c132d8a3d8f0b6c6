#include <cstdint>
#include <optional>
#include <string>

#include "http/cursor.hpp"
#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/query.hpp"

// /v1/urls and /v1/urls/{code}: create, list, read and delete links.

namespace kurz::http::handlers {

namespace {
constexpr std::size_t kMaxMetadataBytes = 4096;
constexpr int kDefaultListLimit = 50;
constexpr int kMaxListLimit = 1000;
// 100 years of 366 days (API.md; maximum of expires_in in docs/openapi.json).
constexpr std::int64_t kMaxExpiresInSeconds = 100LL * 366 * 24 * 3600;
}  // namespace

Response CreateLink(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  auto body = ParseObject(call.request.body);
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
                         "expires_in must be a whole number of seconds from 1 to " +
                             std::to_string(kMaxExpiresInSeconds) + " (100 years)");
    }
    input.expires_at =
        ctx.deps.clock.Now() + expires_in->get<std::int64_t>() * core::kMicrosPerSecond;
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
  auto created = ctx.deps.links.Create(*call.who, std::move(input));
  if (!created) return reply.Error(FromError(created.error()));
  Response out =
      reply.Json(created->created ? 201 : 200, LinkJson(created->link, ctx.options.base_url));
  out.headers.emplace_back("Location", "/v1/urls/" + created->link.code);
  return out;
}

Response ListLinks(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  int limit = kDefaultListLimit;
  if (auto raw = QueryParam(call.request.query, "limit")) {
    auto parsed = ParseIntIn(*raw, 1, kMaxListLimit);
    if (!parsed) {
      return reply.Error(400, "invalid_argument", "limit must be a whole number from 1 to 1000");
    }
    limit = *parsed;
  }
  std::optional<core::ListCursor> after;
  if (auto raw = QueryParam(call.request.query, "cursor"); raw && !raw->empty()) {
    after = DecodeCursor(*raw);
    if (!after) {
      return reply.Error(400, "invalid_argument",
                         "cursor is not one this API returned (use next_cursor as given)");
    }
  }
  auto page = ctx.deps.links.List(*call.who, after, limit);
  if (!page) return reply.Error(FromError(page.error()));
  Json body;
  body["items"] = Json::array();
  for (const core::Link& link : page->items) {
    body["items"].push_back(LinkJson(link, ctx.options.base_url));
  }
  const std::optional<core::ListCursor>& next = page->next;
  body["next_cursor"] = next ? Json(EncodeCursor(*next)) : Json(nullptr);
  return reply.Json(200, body);
}

Response GetLink(ApiContext& ctx, const Call& call) {
  auto link = ctx.deps.links.Get(*call.who, call.params[0]);
  if (!link) return call.reply.Error(FromError(link.error()));
  return call.reply.Json(200, LinkJson(*link, ctx.options.base_url));
}

Response DeleteLink(ApiContext& ctx, const Call& call) {
  auto deleted = ctx.deps.links.Delete(*call.who, call.params[0]);
  if (!deleted) return call.reply.Error(FromError(deleted.error()));
  return call.reply.Empty(204);
}

}  // namespace kurz::http::handlers
