#include "adapters/uap/uap_parser.hpp"

#include <re2/re2.h>
#include <re2/set.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace kurz::adapters::uap {

// Replacement fields of one regex, in capture order: ua (family, v1, v2, v3), os (os, v1..v4),
// device (device, brand, model).
constexpr std::size_t kMaxFields = 5;

struct UapParser::Rule {
  std::unique_ptr<re2::RE2> re;
  int groups = 0;  // capturing groups, at most 9 used
  std::array<std::string, kMaxFields> replacement;
  std::array<bool, kMaxFields> has_replacement{};
};

// Trying hundreds of regexes one by one costs ~150 us per user agent; one RE2::Set pass over
// all of them finds which match (a DFA, linear in the input), and the first of those is run
// alone for its captures. If the Set's DFA runs out of memory, the rules are tried in order.
struct UapParser::Section {
  std::vector<Rule> rules;
  std::unique_ptr<re2::RE2::Set> set;
};

namespace {

constexpr int kMaxGroups = 9;  // uap replacements address $1..$9

struct SectionSpec {
  const char* name;
  std::array<const char*, kMaxFields> fields;
};
constexpr SectionSpec kUaSection{
    "user_agent_parsers",
    {"family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", nullptr}};
constexpr SectionSpec kOsSection{"os_parsers",
                                 {"os_replacement", "os_v1_replacement", "os_v2_replacement",
                                  "os_v3_replacement", "os_v4_replacement"}};
constexpr SectionSpec kDeviceSection{
    "device_parsers",
    {"device_replacement", "brand_replacement", "model_replacement", nullptr, nullptr}};

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// Expands $1..$9 with the captures (an unmatched or missing group is empty), then trims.
std::string Expand(std::string_view tmpl, const re2::StringPiece* caps, int groups) {
  std::string out;
  out.reserve(tmpl.size() + 16);
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '$' && i + 1 < tmpl.size() && tmpl[i + 1] >= '1' && tmpl[i + 1] <= '9') {
      const int n = tmpl[i + 1] - '0';
      if (n <= groups && caps[n].data() != nullptr) out.append(caps[n].data(), caps[n].size());
      ++i;
    } else {
      out.push_back(tmpl[i]);
    }
  }
  return std::string(Trim(out));
}

std::string Group(const re2::StringPiece* caps, int groups, int n) {
  if (n > groups || caps[n].data() == nullptr) return {};
  return std::string(Trim(std::string_view(caps[n].data(), caps[n].size())));
}

// Runs the rules in order; the first match fills `out[0..fields)`: a replacement when the rule
// has one, else the capture `default_group[i]` (0 = none). Returns false when nothing matched.
bool Apply(const UapParser::Section& section, std::string_view ua, std::size_t fields,
           const std::array<int, kMaxFields>& default_group,
           std::array<std::string*, kMaxFields> out) {
  std::array<re2::StringPiece, kMaxGroups + 1> caps;
  const re2::StringPiece text(ua.data(), ua.size());
  std::size_t first = 0;
  if (section.set) {
    std::vector<int> hits;
    re2::RE2::Set::ErrorInfo error{};
    if (section.set->Match(text, &hits, &error)) {
      first = static_cast<std::size_t>(*std::ranges::min_element(hits));
    } else if (error.kind == re2::RE2::Set::kNoError) {
      return false;
    }
  }
  for (std::size_t i = first; i < section.rules.size(); ++i) {
    const auto& rule = section.rules[i];
    const int n = std::min(rule.groups, kMaxGroups);
    if (!rule.re->Match(text, 0, text.size(), re2::RE2::UNANCHORED, caps.data(), n + 1)) continue;
    for (std::size_t f = 0; f < fields; ++f) {
      if (rule.has_replacement[f]) {
        *out[f] = Expand(rule.replacement[f], caps.data(), n);
      } else if (default_group[f] > 0) {
        *out[f] = Group(caps.data(), n, default_group[f]);
      }
    }
    return true;
  }
  return false;
}

std::unique_ptr<UapParser::Section> LoadSection(const YAML::Node& root, const SectionSpec& section,
                                                std::vector<std::string>& rejected) {
  auto result = std::make_unique<UapParser::Section>();
  auto& rules = result->rules;
  const YAML::Node list = root[section.name];
  if (!list || !list.IsSequence()) {
    throw YAML::Exception(YAML::Mark::null_mark(), std::string("no list '") + section.name + "'");
  }
  for (const auto& entry : list) {
    const auto pattern = entry["regex"].as<std::string>();
    re2::RE2::Options options;
    options.set_log_errors(false);
    const YAML::Node flag = entry["regex_flag"];
    if (flag && flag.as<std::string>() == "i") options.set_case_sensitive(false);
    UapParser::Rule rule;
    rule.re = std::make_unique<re2::RE2>(pattern, options);
    if (!rule.re->ok()) {
      rejected.push_back(std::string(section.name) + ": " + pattern + " (" + rule.re->error() +
                         ")");
      continue;
    }
    rule.groups = rule.re->NumberOfCapturingGroups();
    for (std::size_t f = 0; f < kMaxFields; ++f) {
      if (section.fields[f] == nullptr) continue;
      const YAML::Node value = entry[section.fields[f]];
      if (value && !value.IsNull()) {
        rule.replacement[f] = value.as<std::string>();
        rule.has_replacement[f] = true;
      }
    }
    rules.push_back(std::move(rule));
  }
  re2::RE2::Options set_options;
  set_options.set_log_errors(false);
  set_options.set_max_mem(64 << 20);
  auto set = std::make_unique<re2::RE2::Set>(set_options, re2::RE2::UNANCHORED);
  bool ok = true;
  for (const auto& rule : rules) {
    const std::string prefix = rule.re->options().case_sensitive() ? "" : "(?i)";
    ok = ok && set->Add(prefix + rule.re->pattern(), nullptr) >= 0;
  }
  if (ok && set->Compile()) result->set = std::move(set);
  return result;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool ContainsNoCase(std::string_view haystack, std::string_view lower_needle) {
  const auto found = std::ranges::search(haystack, lower_needle, [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
  });
  return found.begin() != haystack.end();
}

bool OneOf(std::string_view value, std::initializer_list<std::string_view> set) {
  return std::ranges::find(set, value) != set.end();
}

// Link-preview, scanner and crawler fetchers that uap does not class as "Spider" (lowercase,
// matched case-insensitively as substrings).
constexpr std::string_view kFetchers[] = {
    "slackbot",
    "slack-imgproxy",
    "facebookexternalhit",
    "facebookcatalog",
    "facebot",
    "twitterbot",
    "whatsapp",
    "discordbot",
    "telegrambot",
    "linkedinbot",
    "mastodon",
    "pleroma",
    "akkoma",
    "misskey",
    "cardyb",  // Bluesky's link-card fetcher
    "microsoft office",
    "ms-office",
    "msoffice",
    "microsoft-webdav",
    "safelinks",
    "skypeuripreview",
    "bingpreview",
    "googlebot",
    "google-inspectiontool",
    "google-pagerenderer",
    "google-safety",
    "googleother",
    "adsbot-google",
    "mediapartners-google",
    "feedfetcher-google",
    "bingbot",
    "applebot",
    "yandexbot",
    "baiduspider",
    "duckduckbot",
    "petalbot",
    "bytespider",
    "redditbot",
    "pinterestbot",
    "embedly",
    "iframely",
    "vkshare",
    "snap url preview",
    "viber",
    "zoominfobot",
    "headlesschrome",
    "phantomjs",
    "semrushbot",
    "ahrefsbot",
    "mj12bot",
    "dotbot",
    "gptbot",
    "chatgpt-user",
    "claudebot",
    "perplexitybot",
    "amazonbot",
    "yahoo! slurp",
    "qwantify",
    "outbrain",
    "nuzzel",
    "bitlybot",
    "w3c_validator",
    "proofpoint",
    "barracuda",
    "mimecast",
    "urlscan",
    "virustotal",
    "checkmarknetwork",
};

}  // namespace

UapParser::UapParser(std::size_t cache_entries) : cache_capacity_(cache_entries) {}
UapParser::~UapParser() = default;

core::Result<std::unique_ptr<UapParser>> UapParser::Load(const std::string& regexes_yaml_path,
                                                         std::size_t cache_entries) {
  std::unique_ptr<UapParser> parser(new UapParser(cache_entries));
  try {
    const YAML::Node root = YAML::LoadFile(regexes_yaml_path);
    parser->ua_ = LoadSection(root, kUaSection, parser->rejected_);
    parser->os_ = LoadSection(root, kOsSection, parser->rejected_);
    parser->device_ = LoadSection(root, kDeviceSection, parser->rejected_);
  } catch (const std::exception& e) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "uap regexes " + regexes_yaml_path + ": " + e.what());
  }
  if (parser->regex_count() == 0) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "uap regexes " + regexes_yaml_path + ": no regex compiled");
  }
  return parser;
}

std::size_t UapParser::regex_count() const {
  return ua_->rules.size() + os_->rules.size() + device_->rules.size();
}

UapResult UapParser::ParseFull(std::string_view ua) const {
  UapResult r;
  if (Apply(*ua_, ua, 4, {1, 2, 3, 4, 0},
            {&r.ua_family, &r.ua_major, &r.ua_minor, &r.ua_patch, nullptr}) &&
      r.ua_family.empty()) {
    r.ua_family = "Other";
  }
  if (Apply(*os_, ua, 5, {1, 2, 3, 4, 5},
            {&r.os_family, &r.os_major, &r.os_minor, &r.os_patch, &r.os_patch_minor}) &&
      r.os_family.empty()) {
    r.os_family = "Other";
  }
  // Device: family and model default to $1; brand has no default.
  if (Apply(*device_, ua, 3, {1, 0, 1, 0, 0},
            {&r.device_family, &r.device_brand, &r.device_model, nullptr, nullptr}) &&
      r.device_family.empty()) {
    r.device_family = "Other";
  }
  return r;
}

ports::UserAgentInfo UapParser::Classify(const UapResult& r, std::string_view ua) {
  ports::UserAgentInfo info{r.ua_family, r.os_family, "other", false};
  const auto& dev = r.device_family;
  const auto& os = r.os_family;
  bool bot = r.ua_family == "Spider" || dev == "Spider";
  for (std::size_t i = 0; !bot && i < std::size(kFetchers); ++i) {
    bot = ContainsNoCase(ua, kFetchers[i]);
  }
  if (bot) {
    info.device = "bot";
    info.is_bot = true;
  } else if (dev == "iPad" || dev == "Generic Tablet" || dev.starts_with("Kindle") ||
             Contains(ua, "iPad") || Contains(ua, "Tablet;") || Contains(ua, "Tablet PC;") ||
             (os == "Android" && !Contains(ua, "Mobile"))) {
    info.device = "tablet";
  } else if (dev == "iPhone" || dev == "iPod" || dev == "Generic Smartphone" ||
             dev == "Generic Feature Phone" ||
             OneOf(os, {"iOS", "Android", "Windows Phone", "Windows Mobile", "BlackBerry OS",
                        "BlackBerry Tablet OS", "Symbian OS", "Symbian^3", "KaiOS", "Firefox OS",
                        "Tizen", "Sailfish", "Ubuntu Touch", "webOS", "Bada", "MeeGo", "Maemo"}) ||
             Contains(ua, "Mobi")) {
    info.device = "mobile";
  } else if (OneOf(os, {"Windows",    "Mac OS X",      "Linux",      "Ubuntu",     "Debian",
                        "Fedora",     "Red Hat",       "SUSE",       "openSUSE",   "Gentoo",
                        "Mint",       "Linux Mint",    "Arch Linux", "Slackware",  "CentOS",
                        "Mageia",     "Mandriva",      "Kubuntu",    "Xubuntu",    "Chrome OS",
                        "FreeBSD",    "OpenBSD",       "NetBSD",     "Solaris",    "Haiku",
                        "Windows 95", "Windows 98",    "Windows ME", "Windows NT", "Windows 2000",
                        "Windows XP", "Windows Vista", "Windows 7",  "Windows 8",  "Windows 8.1",
                        "Windows 10", "Mac OS"}) ||
             os.starts_with("Windows")) {
    info.device = "desktop";
  }
  return info;
}

ports::UserAgentInfo UapParser::Parse(std::string_view user_agent) {
  // Very long strings are parsed but not cached: they are rare and would bloat the cache.
  constexpr std::size_t kMaxCachedLength = 1024;
  const bool cacheable = cache_capacity_ > 0 && user_agent.size() <= kMaxCachedLength;
  if (cacheable) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(user_agent); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  ports::UserAgentInfo info = Classify(ParseFull(user_agent), user_agent);
  if (cacheable) {
    std::lock_guard lock(mutex_);
    if (index_.find(user_agent) == index_.end()) {  // another thread may have raced us
      lru_.emplace_front(std::string(user_agent), info);
      index_.emplace(lru_.front().first, lru_.begin());
      if (lru_.size() > cache_capacity_) {
        index_.erase(lru_.back().first);
        lru_.pop_back();
      }
    }
  }
  return info;
}

}  // namespace kurz::adapters::uap
