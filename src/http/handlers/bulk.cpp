#include <cstddef>
#include <string>
#include <vector>

#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/link_body.hpp"

// POST /v1/urls/bulk: up to 1,000 creates in one request, each succeeding or failing on its own,
// the created ones stored with one durable commit.

namespace kurz::http::handlers {

namespace {
constexpr std::size_t kMaxBulkItems = 1000;

Json ErrorJson(const ApiError& e) {
  return Json{{"code", std::string(e.code)}, {"message", e.message}};
}
}  // namespace

Response BulkCreateLinks(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  auto body = ParseObject(call.request.body);
  if (!body) return reply.Error(body.error());
  if (auto bad = RejectUnknownFields(*body, {"items"})) return reply.Error(*bad);
  auto items = body->find("items");
  if (items == body->end() || !items->is_array() || items->empty() ||
      items->size() > kMaxBulkItems) {
    return reply.Error(400, "invalid_argument", "items must be an array of 1 to 1000 links");
  }
  const core::Micros now = ctx.deps.clock.Now();
  std::vector<service::CreateLinkInput> inputs;
  std::vector<std::size_t> index;  // inputs[k] is items[index[k]]
  std::vector<Json> results(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto input = ParseCreateBody((*items)[i], now);
    if (!input) {
      results[i] =
          Json{{"index", i}, {"status", input.error().status}, {"error", ErrorJson(input.error())}};
      continue;
    }
    inputs.push_back(std::move(*input));
    index.push_back(i);
  }
  if (!inputs.empty()) {
    auto created = ctx.deps.links.CreateMany(*call.who, std::move(inputs));
    if (!created) return reply.Error(FromError(created.error()));
    for (std::size_t k = 0; k < created->size(); ++k) {
      const std::size_t i = index[k];
      const auto& result = (*created)[k];
      if (result) {
        results[i] = Json{{"index", i},
                          {"status", result->created ? 201 : 200},
                          {"link", LinkJson(result->link, ctx.options.base_url)}};
      } else {
        const ApiError e = FromError(result.error());
        results[i] = Json{{"index", i}, {"status", e.status}, {"error", ErrorJson(e)}};
      }
    }
  }
  Json out;
  out["results"] = std::move(results);
  return reply.Json(200, out);
}

}  // namespace kurz::http::handlers
