#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "ports/user_agent_parser.hpp"

namespace re2 {
class RE2;
}  // namespace re2

namespace kurz::adapters::uap {

// The full uap-core answer (spec: uap-core specification.md). Absent values are empty strings.
struct UapResult {
  std::string ua_family = "Other";
  std::string ua_major, ua_minor, ua_patch;
  std::string os_family = "Other";
  std::string os_major, os_minor, os_patch, os_patch_minor;
  std::string device_family = "Other";
  std::string device_brand, device_model;
};

// uap-core's regexes.yaml compiled once with RE2, with an LRU of user agent -> result.
//
// Device type, decided in this order (see Classify):
//  * "bot": uap's UA or device family is "Spider", or the UA names a link-preview / scanner
//    fetcher (Slackbot, facebookexternalhit, Twitterbot, WhatsApp, Discordbot, TelegramBot,
//    LinkedInBot, Mastodon, Microsoft Office / Safe Links, Googlebot, bingbot, ...; the list is
//    kFetchers in uap_parser.cpp). Command-line clients (curl, Wget, python-requests, ...) are
//    NOT bots: a person pasting a short link into a terminal is a click, and uap has no such
//    class either.
//  * "tablet": device family iPad / Kindle / Generic Tablet, or "Tablet" / "iPad" in the UA, or
//    Android without "Mobile" in the UA (Google's rule for Android tablets).
//  * "mobile": device family iPhone / iPod / Generic Smartphone / Generic Feature Phone, OS iOS,
//    Android (with "Mobile"), Windows Phone, BlackBerry, Symbian, KaiOS, Firefox OS, Tizen ..., or
//    "Mobi" in the UA (MDN's rule).
//  * "desktop": a desktop OS family (Windows, Mac OS X, Linux and distributions, Chrome OS, BSDs).
//    iPadOS 13+ sends a Mac UA and is counted desktop: the string cannot tell them apart.
//  * "other": everything else (TVs, consoles, unknown).
class UapParser final : public ports::UserAgentParser {
 public:
  // Fails with kInvalidArgument when the file is unreadable or not uap's format. Regexes RE2
  // refuses are skipped and listed in rejected_regexes(); all 1,162 of uap-core 0.16 compile.
  static core::Result<std::unique_ptr<UapParser>> Load(const std::string& regexes_yaml_path,
                                                       std::size_t cache_entries = 10000);
  ~UapParser() override;

  ports::UserAgentInfo Parse(std::string_view user_agent) override;

  // Uncached uap parse (for conformance tests and the cache's misses).
  UapResult ParseFull(std::string_view ua) const;
  // The device-type and bot rules above, applied to a uap result.
  static ports::UserAgentInfo Classify(const UapResult& r, std::string_view ua);

  std::size_t regex_count() const;
  const std::vector<std::string>& rejected_regexes() const { return rejected_; }

  struct Rule;     // one compiled regex with its replacements
  struct Section;  // one list of rules plus an RE2::Set of them that finds the first match

 private:
  explicit UapParser(std::size_t cache_entries);

  using StringHash = std::hash<std::string_view>;
  using LruList = std::list<std::pair<std::string, ports::UserAgentInfo>>;
  // Keys view the strings owned by lru_'s nodes, which never move.

  std::unique_ptr<Section> ua_;
  std::unique_ptr<Section> os_;
  std::unique_ptr<Section> device_;
  std::vector<std::string> rejected_;

  const std::size_t cache_capacity_;
  std::mutex mutex_;
  LruList lru_;  // most recently used first
  std::unordered_map<std::string_view, LruList::iterator, StringHash> index_;
};

}  // namespace kurz::adapters::uap
