#pragma once

// The options a link may carry beyond the seed (API.md, "Link options beyond the seed"): where it
// sends which visitor (rules, weighted variants), who may follow it (password, click budget),
// what link-preview fetchers see (og) and where it sends people once it is over (expired_url).
// Plain data: validation is LinkService's, storage the LinkStore's, the answer AnswerRedirect's.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace kurz::core {

// Limits of API.md, shared by the HTTP mapper (messages), the service (checks) and the tests.
inline constexpr std::size_t kMaxTitleLength = 200;  // characters (code points)
inline constexpr std::size_t kMaxTags = 20;
inline constexpr std::size_t kMaxTagLength = 64;  // characters
inline constexpr std::size_t kMinPasswordLength = 8;
inline constexpr std::size_t kMaxPasswordLength = 128;
inline constexpr std::size_t kMaxRules = 20;
inline constexpr std::size_t kMinVariants = 2;
inline constexpr std::size_t kMaxVariants = 10;
inline constexpr int kMinVariantWeight = 1;
inline constexpr int kMaxVariantWeight = 100;

// One rule's conditions; every given one must hold, and inside a list any value may match. An
// empty list (or no bound) is no condition.
struct RuleConditions {
  std::vector<std::string> country;   // ISO 3166-1 alpha-2, upper case ("DE")
  std::vector<std::string> device;    // "mobile", "tablet" or "desktop"
  std::vector<std::string> os;        // "iOS", "Android", "Windows", "macOS", "Linux", ...
  std::vector<std::string> language;  // primary language subtags, lower case ("de")
  std::optional<Micros> after;        // the clock is at or past it
  std::optional<Micros> before;       // the clock is before it
  friend bool operator==(const RuleConditions&, const RuleConditions&) = default;
};

struct TargetRule {
  RuleConditions when;
  std::string url;  // as the user gave it (the Location is its ASCII form)
  friend bool operator==(const TargetRule&, const TargetRule&) = default;
};

struct Variant {
  std::string url;
  int weight = 1;  // 1..100
  friend bool operator==(const Variant&, const Variant&) = default;
};

// OpenGraph / Twitter-card tags for link-preview fetchers. Empty strings are left out.
struct OpenGraph {
  std::string title;
  std::string description;
  std::string image;  // an absolute http(s) URL
  friend bool operator==(const OpenGraph&, const OpenGraph&) = default;
};

}  // namespace kurz::core
