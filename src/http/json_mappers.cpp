#include "http/json_mappers.hpp"

#include <algorithm>
#include <string>

namespace kurz::http {

Json PermissionsJson(core::Permissions permissions) {
  Json out = Json::array();
  for (core::Permission p : core::kEveryPermission) {
    if (permissions & p) out.push_back(core::PermissionName(p));
  }
  return out;
}

Json TimeOrNull(const std::optional<core::Micros>& t) {
  return t ? Json(core::FormatRfc3339(*t)) : Json(nullptr);
}

Json LinkJson(const core::Link& link, std::string_view base_url) {
  Json j;
  j["code"] = link.code;
  j["short_url"] = std::string(base_url) + "/" + link.code;
  j["url"] = link.url;
  j["created_at"] = core::FormatRfc3339(link.created_at);
  j["expires_at"] = TimeOrNull(link.expires_at);
  j["redirect_type"] = static_cast<int>(link.redirect_type);
  j["is_custom"] = link.is_custom;
  Json metadata = Json::parse(link.metadata_json, nullptr, false);
  j["metadata"] = metadata.is_discarded() ? Json::object() : metadata;
  j["click_count"] = link.click_count;
  j["title"] = link.title;
  j["tags"] = link.tags;
  j["forward_query"] = link.forward_query;
  j["password_protected"] = link.password_hash.has_value();
  j["max_clicks"] = link.max_clicks ? Json(*link.max_clicks) : Json(nullptr);
  j["clicks_left"] = link.max_clicks
                         ? Json(std::max<std::int64_t>(0, *link.max_clicks - link.clicks_used))
                         : Json(nullptr);
  j["expired_url"] = link.expired_url ? Json(*link.expired_url) : Json(nullptr);
  j["rules"] = Json::array();
  for (const core::TargetRule& rule : link.rules) {
    Json when = Json::object();
    const core::RuleConditions& c = rule.when;
    if (!c.country.empty()) when["country"] = c.country;
    if (!c.device.empty()) when["device"] = c.device;
    if (!c.os.empty()) when["os"] = c.os;
    if (!c.language.empty()) when["language"] = c.language;
    if (c.after) when["after"] = core::FormatRfc3339(*c.after);
    if (c.before) when["before"] = core::FormatRfc3339(*c.before);
    j["rules"].push_back(Json{{"if", std::move(when)}, {"url", rule.url}});
  }
  j["variants"] = Json::array();
  for (const core::Variant& v : link.variants) {
    j["variants"].push_back(Json{{"url", v.url}, {"weight", v.weight}});
  }
  j["og"] = link.og ? Json{{"title", link.og->title},
                           {"description", link.og->description},
                           {"image", link.og->image}}
                    : Json(nullptr);
  return j;
}

Json KeyJson(const core::ApiKey& k) {
  Json j;
  j["id"] = k.id;
  j["name"] = k.name;
  j["prefix"] = k.prefix;
  j["permissions"] = PermissionsJson(k.permissions);
  j["created_at"] = core::FormatRfc3339(k.created_at);
  j["expires_at"] = TimeOrNull(k.expires_at);
  j["revoked_at"] = TimeOrNull(k.revoked_at);
  j["last_used_at"] = TimeOrNull(k.last_used_at);
  return j;
}

Json UserJson(const core::User& u) {
  Json j;
  j["id"] = u.id;
  j["email"] = u.email;
  j["tier"] = u.tier;
  j["status"] = core::ToString(u.status);
  j["created_at"] = core::FormatRfc3339(u.created_at);
  return j;
}

std::expected<Json, ApiError> ParseObject(std::string_view body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return std::unexpected(ApiError{400, "invalid_json", "the body is not valid JSON"});
  }
  if (!parsed.is_object()) {
    return std::unexpected(ApiError{400, "invalid_json", "the body must be a JSON object"});
  }
  return parsed;
}

std::optional<ApiError> RejectUnknownFields(const Json& body,
                                            std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : body.items()) {
    if (std::ranges::find(known, name) == known.end()) {
      return ApiError{400, "invalid_argument", "unknown field '" + name + "'"};
    }
  }
  return std::nullopt;
}

std::expected<core::Permissions, ApiError> ParsePermissions(const Json& value) {
  const ApiError not_strings{400, "invalid_argument", "permissions must be an array of strings"};
  if (!value.is_array()) return std::unexpected(not_strings);
  core::Permissions perms = 0;
  for (const Json& p : value) {
    if (!p.is_string()) return std::unexpected(not_strings);
    auto parsed = core::ParsePermission(p.get_ref<const std::string&>());
    if (!parsed) return std::unexpected(ApiError{400, "invalid_argument", parsed.error().detail});
    perms |= *parsed;
  }
  return perms;
}

}  // namespace kurz::http
