#pragma once

#include <expected>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/account.hpp"
#include "core/link.hpp"
#include "core/time.hpp"
#include "http/reply.hpp"

namespace kurz::http {

using Json = nlohmann::ordered_json;

// The API's JSON shapes of its resources (API.md, docs/openapi.json).
Json LinkJson(const core::Link& link, std::string_view base_url);  // short_url = base_url/code
Json KeyJson(const core::ApiKey& key);                             // never the secret
Json UserJson(const core::User& user);
Json PermissionsJson(core::Permissions permissions);  // names in kEveryPermission order
Json TimeOrNull(const std::optional<core::Micros>& t);

// Request bodies: a JSON object, or invalid_json.
std::expected<Json, ApiError> ParseObject(std::string_view body);
// invalid_argument naming the first field of `body` not in `known`.
std::optional<ApiError> RejectUnknownFields(const Json& body,
                                            std::initializer_list<std::string_view> known);
// An array of permission names; invalid_argument otherwise.
std::expected<core::Permissions, ApiError> ParsePermissions(const Json& value);

}  // namespace kurz::http
