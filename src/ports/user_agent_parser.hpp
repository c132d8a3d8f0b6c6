#pragma once

#include <string>
#include <string_view>

namespace kurz::ports {

// What analytics keeps of a User-Agent header.
struct UserAgentInfo {
  std::string browser;  // uap family, e.g. "Chrome", "Mobile Safari"; "Other" when unknown
  std::string os;       // uap family, e.g. "Windows", "iOS"; "Other" when unknown
  std::string device;   // "mobile", "tablet", "desktop", "bot" or "other"
  bool is_bot = false;  // crawlers and link-preview/scanner fetchers; true iff device == "bot"

  bool operator==(const UserAgentInfo&) const = default;
};

// Classifies User-Agent strings. Thread-safe.
class UserAgentParser {
 public:
  virtual ~UserAgentParser() = default;
  // Never fails: any input, including empty or garbage, yields a value ("Other"/"other").
  virtual UserAgentInfo Parse(std::string_view user_agent) = 0;
};

}  // namespace kurz::ports
