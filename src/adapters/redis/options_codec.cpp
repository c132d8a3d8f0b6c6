#include "adapters/redis/options_codec.hpp"

#include <nlohmann/json.hpp>

namespace kurz::adapters::redis {

namespace {

using Json = nlohmann::json;

Json ConditionsJson(const core::RuleConditions& c) {
  Json j = Json::object();
  if (!c.country.empty()) j["country"] = c.country;
  if (!c.device.empty()) j["device"] = c.device;
  if (!c.os.empty()) j["os"] = c.os;
  if (!c.language.empty()) j["language"] = c.language;
  if (c.after) j["after"] = *c.after;
  if (c.before) j["before"] = *c.before;
  return j;
}

core::RuleConditions ConditionsOf(const Json& j) {
  core::RuleConditions c;
  c.country = j.value("country", std::vector<std::string>{});
  c.device = j.value("device", std::vector<std::string>{});
  c.os = j.value("os", std::vector<std::string>{});
  c.language = j.value("language", std::vector<std::string>{});
  if (j.contains("after")) c.after = j.at("after").get<core::Micros>();
  if (j.contains("before")) c.before = j.at("before").get<core::Micros>();
  return c;
}

}  // namespace

std::string EncodeOptions(const core::LinkOptions& o) {
  Json j = Json::object();
  if (o.forward_query) j["fq"] = true;
  if (!o.password_hash.empty()) j["pw"] = o.password_hash;
  if (o.budget) j["budget"] = true;
  if (!o.expired_location.empty()) j["expired"] = o.expired_location;
  if (!o.rules.empty()) {
    Json rules = Json::array();
    for (const auto& r : o.rules)
      rules.push_back({{"if", ConditionsJson(r.when)}, {"to", r.location}});
    j["rules"] = std::move(rules);
  }
  if (!o.variants.empty()) {
    Json variants = Json::array();
    for (const auto& v : o.variants) variants.push_back({{"to", v.location}, {"w", v.weight}});
    j["variants"] = std::move(variants);
  }
  if (o.og) j["og"] = {{"t", o.og->title}, {"d", o.og->description}, {"i", o.og->image}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::shared_ptr<const core::LinkOptions> DecodeOptions(std::string_view json) {
  try {
    const Json j = Json::parse(json);
    if (!j.is_object()) return nullptr;
    auto o = std::make_shared<core::LinkOptions>();
    o->forward_query = j.value("fq", false);
    o->password_hash = j.value("pw", std::string());
    o->budget = j.value("budget", false);
    o->expired_location = j.value("expired", std::string());
    if (j.contains("rules")) {
      for (const Json& r : j.at("rules")) {
        o->rules.push_back({ConditionsOf(r.at("if")), r.at("to").get<std::string>()});
      }
    }
    if (j.contains("variants")) {
      for (const Json& v : j.at("variants")) {
        o->variants.push_back({v.at("to").get<std::string>(), v.at("w").get<int>()});
      }
    }
    if (j.contains("og")) {
      const Json& og = j.at("og");
      o->og = core::OpenGraph{og.at("t").get<std::string>(), og.at("d").get<std::string>(),
                              og.at("i").get<std::string>()};
    }
    return o;
  } catch (const Json::exception&) {
    return nullptr;
  }
}

}  // namespace kurz::adapters::redis
