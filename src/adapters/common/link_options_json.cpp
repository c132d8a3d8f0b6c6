#include "adapters/common/link_options_json.hpp"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "adapters/common/sql_values.hpp"

namespace kurz::adapters {
namespace {

using nlohmann::json;

json Strings(const std::vector<std::string>& values) { return json(values); }

json EncodeConditions(const core::RuleConditions& when) {
  json out = json::object();
  if (!when.country.empty()) out["country"] = Strings(when.country);
  if (!when.device.empty()) out["device"] = Strings(when.device);
  if (!when.os.empty()) out["os"] = Strings(when.os);
  if (!when.language.empty()) out["language"] = Strings(when.language);
  if (when.after) out["after"] = *when.after;
  if (when.before) out["before"] = *when.before;
  return out;
}

// Throws json::exception (type_error, out_of_range) on a shape EncodeLinkOptions never writes.
std::vector<std::string> ReadStrings(const json& object, const char* key) {
  if (!object.contains(key)) return {};
  return object.at(key).get<std::vector<std::string>>();
}

core::RuleConditions DecodeConditions(const json& when) {
  core::RuleConditions out;
  out.country = ReadStrings(when, "country");
  out.device = ReadStrings(when, "device");
  out.os = ReadStrings(when, "os");
  out.language = ReadStrings(when, "language");
  if (when.contains("after")) out.after = when.at("after").get<core::Micros>();
  if (when.contains("before")) out.before = when.at("before").get<core::Micros>();
  return out;
}

}  // namespace

bool HasNoStoredOptions(const core::Link& link) {
  return !link.password_hash && !link.expired_url && link.rules.empty() && link.variants.empty() &&
         !link.og;
}

std::string EncodeLinkOptions(const core::Link& link) {
  if (HasNoStoredOptions(link)) return "";
  json out = json::object();
  if (link.password_hash) out["password_hash"] = *link.password_hash;
  if (link.expired_url) out["expired_url"] = *link.expired_url;
  if (!link.rules.empty()) {
    json rules = json::array();
    for (const core::TargetRule& rule : link.rules) {
      rules.push_back({{"when", EncodeConditions(rule.when)}, {"url", rule.url}});
    }
    out["rules"] = std::move(rules);
  }
  if (!link.variants.empty()) {
    json variants = json::array();
    for (const core::Variant& variant : link.variants) {
      variants.push_back({{"url", variant.url}, {"weight", variant.weight}});
    }
    out["variants"] = std::move(variants);
  }
  if (link.og) {
    out["og"] = {{"title", link.og->title},
                 {"description", link.og->description},
                 {"image", link.og->image}};
  }
  // Invalid UTF-8 is replaced rather than thrown: the service has validated every string.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::Result<void> DecodeLinkOptions(std::string_view text, core::Link& link) {
  link.password_hash.reset();
  link.expired_url.reset();
  link.rules.clear();
  link.variants.clear();
  link.og.reset();
  if (text.empty()) return {};
  try {
    const json in = json::parse(text);
    if (!in.is_object()) {
      return core::Fail(core::ErrorCode::kInternal, "link options of " + link.code + " corrupt");
    }
    if (in.contains("password_hash"))
      link.password_hash = in.at("password_hash").get<std::string>();
    if (in.contains("expired_url")) link.expired_url = in.at("expired_url").get<std::string>();
    if (in.contains("rules")) {
      for (const json& rule : in.at("rules")) {
        link.rules.push_back(core::TargetRule{.when = DecodeConditions(rule.at("when")),
                                              .url = rule.at("url").get<std::string>()});
      }
    }
    if (in.contains("variants")) {
      for (const json& variant : in.at("variants")) {
        link.variants.push_back(core::Variant{.url = variant.at("url").get<std::string>(),
                                              .weight = variant.at("weight").get<int>()});
      }
    }
    if (in.contains("og")) {
      const json& og = in.at("og");
      link.og = core::OpenGraph{.title = og.at("title").get<std::string>(),
                                .description = og.at("description").get<std::string>(),
                                .image = og.at("image").get<std::string>()};
    }
    return {};
  } catch (const json::exception& e) {
    link.password_hash.reset();
    link.expired_url.reset();
    link.rules.clear();
    link.variants.clear();
    link.og.reset();
    return core::Fail(core::ErrorCode::kInternal,
                      "link options of " + link.code + " corrupt: " + e.what());
  }
}

std::string EncodeTagRows(const core::Link& link) {
  json rows = json::array();
  std::vector<std::string> keys;
  for (const std::string& tag : link.tags) {
    std::string key = TagKey(tag);
    if (std::ranges::find(keys, key) != keys.end()) continue;
    rows.push_back({tag, key});
    keys.push_back(std::move(key));
  }
  return rows.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::Result<void> DecodeTags(std::string_view text, core::Link& link) {
  link.tags.clear();
  if (text.empty()) return {};
  try {
    const json in = json::parse(text);
    std::vector<std::pair<std::int64_t, std::string>> tags;
    for (const json& pair : in.get_ref<const json::array_t&>()) {
      tags.emplace_back(pair.at(0).get<std::int64_t>(), pair.at(1).get<std::string>());
    }
    std::ranges::sort(tags);
    link.tags.reserve(tags.size());
    for (auto& [position, tag] : tags) link.tags.push_back(std::move(tag));
    return {};
  } catch (const json::exception& e) {
    link.tags.clear();
    return core::Fail(core::ErrorCode::kInternal, "tags of " + link.code + " corrupt: " + e.what());
  }
}

}  // namespace kurz::adapters
