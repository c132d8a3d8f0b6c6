#include "http/link_body.hpp"

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kurz::http {

namespace {

constexpr std::size_t kMaxMetadataBytes = 4096;
// 100 years of 366 days (API.md; maximum of expires_in in docs/openapi.json).
constexpr std::int64_t kMaxExpiresInSeconds = 100LL * 366 * 24 * 3600;
// JSON numbers beyond this are not exact in every client (2^53 - 1).
constexpr std::int64_t kMaxSafeInteger = 9007199254740991;

template <class T>
using Parsed = std::expected<T, ApiError>;

std::unexpected<ApiError> Bad(std::string message) {
  return std::unexpected(ApiError{400, "invalid_argument", std::move(message)});
}

// The field, or null when absent; a JSON null is returned as is (callers decide).
const Json* Field(const Json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() ? nullptr : &*it;
}

Parsed<std::string> String(const Json& v, const std::string& name) {
  if (!v.is_string()) return Bad(name + " must be a string");
  return v.get<std::string>();
}

Parsed<core::Micros> Time(const Json& v, const std::string& name) {
  if (!v.is_string()) return Bad(name + " must be an RFC 3339 date-time");
  auto t = core::ParseRfc3339(v.get_ref<const std::string&>());
  if (!t) return Bad(name + " must be an RFC 3339 date-time such as 2027-01-01T00:00:00Z");
  return *t;
}

Parsed<std::vector<std::string>> Strings(const Json& v, const std::string& name) {
  if (!v.is_array()) return Bad(name + " must be an array of strings");
  std::vector<std::string> out;
  for (const Json& item : v) {
    if (!item.is_string()) return Bad(name + " must be an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

void Lower(std::vector<std::string>& values) {
  for (std::string& v : values) {
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
}

void Upper(std::vector<std::string>& values) {
  for (std::string& v : values) {
    for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
}

Parsed<core::RedirectType> RedirectTypeOf(const Json& v) {
  const int t = v.is_number_integer() ? v.get<int>() : 0;
  if (t != 301 && t != 302 && t != 307 && t != 308) {
    return Bad("redirect_type must be 301, 302, 307 or 308");
  }
  return static_cast<core::RedirectType>(t);
}

Parsed<std::string> Metadata(const Json& v) {
  if (!v.is_object()) return Bad("metadata must be a JSON object");
  std::string text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > kMaxMetadataBytes) return Bad("metadata must be at most 4096 bytes of JSON");
  return text;
}

Parsed<std::int64_t> MaxClicks(const Json& v) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1 ||
      v.get<std::int64_t>() > kMaxSafeInteger) {
    return Bad("max_clicks must be a whole number of at least 1");
  }
  return v.get<std::int64_t>();
}

Parsed<std::vector<core::TargetRule>> Rules(const Json& v) {
  if (!v.is_array()) return Bad(R"(rules must be an array of {"if": {...}, "url": ...})");
  if (v.size() > core::kMaxRules) return Bad("rules: at most 20");
  std::vector<core::TargetRule> rules;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = "rules[" + std::to_string(i) + "]";
    const Json& r = v[i];
    if (!r.is_object()) return Bad(at + " must be an object with if and url");
    if (auto bad = RejectUnknownFields(r, {"if", "url"})) return Bad(at + ": " + bad->message);
    core::TargetRule rule;
    const Json* url = Field(r, "url");
    if (url == nullptr || url->is_null()) return Bad(at + ".url is required");
    auto u = String(*url, at + ".url");
    if (!u) return std::unexpected(u.error());
    rule.url = std::move(*u);
    const Json* when = Field(r, "if");
    if (when == nullptr || !when->is_object()) return Bad(at + ".if must be an object");
    if (auto bad = RejectUnknownFields(
            *when, {"country", "device", "os", "language", "after", "before"})) {
      return Bad(at + ".if: " + bad->message);
    }
    const auto list = [&](const char* name,
                          std::vector<std::string>& out) -> std::optional<ApiError> {
      const Json* f = Field(*when, name);
      if (f == nullptr || f->is_null()) return std::nullopt;
      auto values = Strings(*f, at + ".if." + name);
      if (!values) return values.error();
      out = std::move(*values);
      return std::nullopt;
    };
    for (auto [name, out] :
         {std::pair{"country", &rule.when.country}, std::pair{"device", &rule.when.device},
          std::pair{"os", &rule.when.os}, std::pair{"language", &rule.when.language}}) {
      if (auto bad = list(name, *out)) return std::unexpected(*bad);
    }
    Upper(rule.when.country);
    Lower(rule.when.device);
    Lower(rule.when.language);
    for (auto [name, out] :
         {std::pair{"after", &rule.when.after}, std::pair{"before", &rule.when.before}}) {
      const Json* f = Field(*when, name);
      if (f == nullptr || f->is_null()) continue;
      auto t = Time(*f, at + ".if." + name);
      if (!t) return std::unexpected(t.error());
      *out = *t;
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

Parsed<std::vector<core::Variant>> Variants(const Json& v) {
  if (!v.is_array()) return Bad(R"(variants must be an array of {"url": ..., "weight": n})");
  std::vector<core::Variant> variants;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = "variants[" + std::to_string(i) + "]";
    const Json& item = v[i];
    if (!item.is_object()) return Bad(at + " must be an object with url and weight");
    if (auto bad = RejectUnknownFields(item, {"url", "weight"})) {
      return Bad(at + ": " + bad->message);
    }
    core::Variant variant;
    const Json* url = Field(item, "url");
    if (url == nullptr || url->is_null()) return Bad(at + ".url is required");
    auto u = String(*url, at + ".url");
    if (!u) return std::unexpected(u.error());
    variant.url = std::move(*u);
    const Json* weight = Field(item, "weight");
    if (weight == nullptr || !weight->is_number_integer() || weight->get<std::int64_t>() < 1 ||
        weight->get<std::int64_t>() > 100) {
      return Bad(at + ".weight must be a whole number from 1 to 100");
    }
    variant.weight = weight->get<int>();
    variants.push_back(std::move(variant));
  }
  return variants;
}

Parsed<core::OpenGraph> OpenGraphOf(const Json& v) {
  if (!v.is_object()) return Bad("og must be an object with title, description and image");
  if (auto bad = RejectUnknownFields(v, {"title", "description", "image"})) {
    return Bad("og: " + bad->message);
  }
  core::OpenGraph og;
  for (auto [name, out] : {std::pair{"title", &og.title}, std::pair{"description", &og.description},
                           std::pair{"image", &og.image}}) {
    const Json* f = Field(v, name);
    if (f == nullptr || f->is_null()) continue;
    auto s = String(*f, std::string("og.") + name);
    if (!s) return std::unexpected(s.error());
    *out = std::move(*s);
  }
  return og;
}

// Reads one option field into out; nullopt when it parsed (or was absent).
template <class T, class F>
std::optional<ApiError> Read(const Json& body, const char* name, F parse, std::optional<T>& out) {
  const Json* f = Field(body, name);
  if (f == nullptr || f->is_null()) return std::nullopt;
  auto parsed = parse(*f);
  if (!parsed) return parsed.error();
  out = std::move(*parsed);
  return std::nullopt;
}

auto StringNamed(const char* name) {
  return [name](const Json& v) { return String(v, name); };
}

Parsed<bool> Bool(const Json& v, const char* name) {
  if (!v.is_boolean()) return Bad(std::string(name) + " must be true or false");
  return v.get<bool>();
}

}  // namespace

std::expected<service::CreateLinkInput, ApiError> ParseCreateBody(const Json& body,
                                                                  core::Micros now) {
  if (!body.is_object()) {
    return std::unexpected(ApiError{400, "invalid_json", "a link must be a JSON object"});
  }
  if (auto bad = RejectUnknownFields(
          body, {"url", "custom_code", "expires_at", "expires_in", "redirect_type", "metadata",
                 "title", "tags", "forward_query", "password", "max_clicks", "expired_url", "rules",
                 "variants", "og"})) {
    return std::unexpected(*bad);
  }
  service::CreateLinkInput input;
  const auto present = [&](const char* name) {
    const Json* f = Field(body, name);
    return f != nullptr && !f->is_null() ? f : nullptr;
  };
  const Json* url = present("url");
  if (!url) return std::unexpected(ApiError{400, "invalid_url", "url is required"});
  if (!url->is_string()) {
    return std::unexpected(ApiError{400, "invalid_url", "url must be a string"});
  }
  input.url = url->get<std::string>();
  if (const Json* code = present("custom_code")) {
    if (!code->is_string()) {
      return std::unexpected(ApiError{400, "invalid_code", "custom_code must be a string"});
    }
    input.custom_code = code->get<std::string>();
  }
  const Json* expires_at = present("expires_at");
  const Json* expires_in = present("expires_in");
  if (expires_at && expires_in) return Bad("give expires_at or expires_in, not both");
  if (expires_at) {
    auto t = Time(*expires_at, "expires_at");
    if (!t) return std::unexpected(t.error());
    input.expires_at = *t;
  }
  if (expires_in) {
    if (!expires_in->is_number_integer() || expires_in->get<std::int64_t>() <= 0 ||
        expires_in->get<std::int64_t>() > kMaxExpiresInSeconds) {
      return Bad("expires_in must be a whole number of seconds from 1 to " +
                 std::to_string(kMaxExpiresInSeconds) + " (100 years)");
    }
    input.expires_at = now + expires_in->get<std::int64_t>() * core::kMicrosPerSecond;
  }
  if (const Json* type = present("redirect_type")) {
    auto t = RedirectTypeOf(*type);
    if (!t) return std::unexpected(t.error());
    input.redirect_type = *t;
  }
  if (const Json* metadata = present("metadata")) {
    auto m = Metadata(*metadata);
    if (!m) return std::unexpected(m.error());
    input.metadata_json = std::move(*m);
  }
  service::LinkOptionsInput& o = input.options;
  std::optional<std::string> title;
  std::optional<std::vector<std::string>> tags;
  std::optional<bool> forward_query;
  std::optional<std::vector<core::TargetRule>> rules;
  std::optional<std::vector<core::Variant>> variants;
  for (std::optional<ApiError> bad :
       {Read(body, "title", StringNamed("title"), title),
        Read(
            body, "tags", [](const Json& v) { return Strings(v, "tags"); }, tags),
        Read(
            body, "forward_query", [](const Json& v) { return Bool(v, "forward_query"); },
            forward_query),
        Read(body, "password", StringNamed("password"), o.password),
        Read(body, "max_clicks", MaxClicks, o.max_clicks),
        Read(body, "expired_url", StringNamed("expired_url"), o.expired_url),
        Read(body, "rules", Rules, rules), Read(body, "variants", Variants, variants),
        Read(body, "og", OpenGraphOf, o.og)}) {
    if (bad) return std::unexpected(*bad);
  }
  o.title = title.value_or("");
  o.tags = tags.value_or(std::vector<std::string>{});
  o.forward_query = forward_query.value_or(false);
  o.rules = rules.value_or(std::vector<core::TargetRule>{});
  o.variants = variants.value_or(std::vector<core::Variant>{});
  return input;
}

std::expected<service::LinkPatch, ApiError> ParsePatchBody(const Json& body) {
  for (const char* fixed : {"code", "custom_code", "short_url", "created_at", "is_custom",
                            "click_count", "clicks_left", "password_protected", "expires_in"}) {
    if (body.contains(fixed)) {
      return Bad(std::string(fixed) + (std::string_view(fixed) == "expires_in"
                                           ? " is for creates; PATCH takes expires_at"
                                           : " cannot be changed"));
    }
  }
  if (auto bad = RejectUnknownFields(
          body, {"url", "expires_at", "redirect_type", "metadata", "title", "tags", "forward_query",
                 "password", "max_clicks", "expired_url", "rules", "variants", "og"})) {
    return std::unexpected(*bad);
  }
  if (body.empty()) return Bad("give at least one field to change");
  service::LinkPatch patch;
  // Fields that cannot be removed: null is a mistake.
  for (const char* name : {"url", "redirect_type", "metadata", "tags", "forward_query"}) {
    const Json* f = Field(body, name);
    if (f != nullptr && f->is_null()) return Bad(std::string(name) + " cannot be null");
  }
  if (const Json* url = Field(body, "url")) {
    if (!url->is_string()) {
      return std::unexpected(ApiError{400, "invalid_url", "url must be a string"});
    }
    patch.url = url->get<std::string>();
  }
  for (std::optional<ApiError> bad :
       {Read(body, "redirect_type", RedirectTypeOf, patch.redirect_type),
        Read(body, "metadata", Metadata, patch.metadata_json),
        Read(
            body, "tags", [](const Json& v) { return Strings(v, "tags"); }, patch.tags),
        Read(
            body, "forward_query", [](const Json& v) { return Bool(v, "forward_query"); },
            patch.forward_query)}) {
    if (bad) return std::unexpected(*bad);
  }
  // Nullable fields: null removes.
  const auto nullable = [&]<class T, class F>(
                            const char* name, F parse,
                            std::optional<std::optional<T>>& out) -> std::optional<ApiError> {
    const Json* f = Field(body, name);
    if (f == nullptr) return std::nullopt;
    if (f->is_null()) {
      out.emplace(std::nullopt);
      return std::nullopt;
    }
    auto parsed = parse(*f);
    if (!parsed) return parsed.error();
    out.emplace(std::move(*parsed));
    return std::nullopt;
  };
  std::optional<std::optional<std::string>> title;
  std::optional<std::optional<std::vector<core::TargetRule>>> rules;
  std::optional<std::optional<std::vector<core::Variant>>> variants;
  for (std::optional<ApiError> bad :
       {nullable.operator()<core::Micros>(
            "expires_at", [](const Json& v) { return Time(v, "expires_at"); }, patch.expires_at),
        nullable.operator()<std::string>("title", StringNamed("title"), title),
        nullable.operator()<std::string>("password", StringNamed("password"), patch.password),
        nullable.operator()<std::int64_t>("max_clicks", MaxClicks, patch.max_clicks),
        nullable.operator()<std::string>("expired_url", StringNamed("expired_url"),
                                         patch.expired_url),
        nullable.operator()<std::vector<core::TargetRule>>("rules", Rules, rules),
        nullable.operator()<std::vector<core::Variant>>("variants", Variants, variants),
        nullable.operator()<core::OpenGraph>("og", OpenGraphOf, patch.og)}) {
    if (bad) return std::unexpected(*bad);
  }
  if (title) patch.title = title->value_or("");
  if (rules) patch.rules = rules->value_or(std::vector<core::TargetRule>{});
  if (variants) patch.variants = variants->value_or(std::vector<core::Variant>{});
  return patch;
}

}  // namespace kurz::http
