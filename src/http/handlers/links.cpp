#include <cstdint>
#include <optional>
#include <string>

#include "http/cursor.hpp"
#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/link_body.hpp"
#include "http/query.hpp"

// /v1/urls, /v1/urls/{code} and /v1/tags: create, list and search, read, change and delete
// links; the owner's tags.

namespace kurz::http::handlers {

namespace {
constexpr int kDefaultListLimit = 50;
constexpr int kMaxListLimit = 1000;
constexpr std::size_t kMaxSearchText = 200;
}  // namespace

Response CreateLink(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  auto body = ParseObject(call.request.body);
  if (!body) return reply.Error(body.error());
  auto input = ParseCreateBody(*body, ctx.deps.clock.Now());
  if (!input) return reply.Error(input.error());
  auto created = ctx.deps.links.Create(*call.who, std::move(*input));
  if (!created) return reply.Error(FromError(created.error()));
  Response out =
      reply.Json(created->created ? 201 : 200, LinkJson(created->link, ctx.options.base_url));
  out.headers.emplace_back("Location", "/v1/urls/" + created->link.code);
  return out;
}

Response ListLinks(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  const std::string_view query = call.request.query;
  core::LinkQuery search;
  search.limit = kDefaultListLimit;
  if (auto raw = QueryParam(query, "limit")) {
    auto parsed = ParseIntIn(*raw, 1, kMaxListLimit);
    if (!parsed) {
      return reply.Error(400, "invalid_argument", "limit must be a whole number from 1 to 1000");
    }
    search.limit = *parsed;
  }
  if (auto raw = QueryParam(query, "sort")) {
    if (*raw == "-created_at") {
      search.sort = core::LinkSort::kNewest;
    } else if (*raw == "created_at") {
      search.sort = core::LinkSort::kOldest;
    } else if (*raw == "-clicks") {
      search.sort = core::LinkSort::kMostClicks;
    } else {
      return reply.Error(400, "invalid_argument",
                         "sort must be -created_at (the default), created_at or -clicks");
    }
  }
  search.tags = QueryParams(query, "tag");
  if (search.tags.size() > core::kMaxTags) {
    return reply.Error(400, "invalid_argument", "tag: at most 20 of them");
  }
  for (const std::string& tag : search.tags) {
    if (tag.empty() || tag.size() > 4 * core::kMaxTagLength) {
      return reply.Error(400, "invalid_argument", "tag must be 1 to 64 characters");
    }
  }
  if (auto text = QueryParam(query, "q")) {
    if (text->size() > kMaxSearchText) {
      return reply.Error(400, "invalid_argument", "q must be at most 200 bytes");
    }
    search.text = std::move(*text);
  }
  if (auto raw = QueryParam(query, "cursor"); raw && !raw->empty()) {
    search.after = DecodeCursor(*raw, search.sort);
    if (!search.after) {
      return reply.Error(400, "invalid_argument",
                         "cursor is not one this API returned for this sort (use next_cursor "
                         "as given, with the same sort)");
    }
  }
  const core::LinkSort sort = search.sort;
  auto page = ctx.deps.links.Search(*call.who, std::move(search));
  if (!page) return reply.Error(FromError(page.error()));
  Json body;
  body["items"] = Json::array();
  for (const core::Link& link : page->items) {
    body["items"].push_back(LinkJson(link, ctx.options.base_url));
  }
  const std::optional<core::ListCursor>& next = page->next;
  body["next_cursor"] = next ? Json(EncodeCursor(*next, sort)) : Json(nullptr);
  return reply.Json(200, body);
}

Response PatchLink(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  auto body = ParseObject(call.request.body);
  if (!body) return reply.Error(body.error());
  auto patch = ParsePatchBody(*body);
  if (!patch) return reply.Error(patch.error());
  auto link = ctx.deps.links.Update(*call.who, call.params[0], std::move(*patch));
  if (!link) return reply.Error(FromError(link.error()));
  return reply.Json(200, LinkJson(*link, ctx.options.base_url));
}

Response ListTags(ApiContext& ctx, const Call& call) {
  auto tags = ctx.deps.links.Tags(*call.who);
  if (!tags) return call.reply.Error(FromError(tags.error()));
  Json body;
  body["items"] = Json::array();
  for (const core::TagCount& t : *tags) {
    body["items"].push_back(Json{{"tag", t.tag}, {"links", t.links}});
  }
  return call.reply.Json(200, body);
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
