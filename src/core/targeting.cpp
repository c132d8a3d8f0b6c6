#include "core/targeting.hpp"

#include <array>
#include <cstring>

namespace kurz::core {

namespace {

bool Has(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The part of `s` before the first `sep` (all of it when there is none); `s` keeps the rest after
// the separator, or becomes empty.
std::string_view TakeUntil(std::string_view& s, char sep) {
  const std::size_t at = s.find(sep);
  const std::string_view head = s.substr(0, at);
  s = at == std::string_view::npos ? std::string_view() : s.substr(at + 1);
  return head;
}

struct UserAgentFacts {
  Device device = Device::kDesktop;
  std::string_view os;
};

// DeviceOf and OsOf in one pass of substring tests, most specific first: iOS and Android UAs also
// name "Mac OS X" and "Linux".
UserAgentFacts ClassifyUserAgent(std::string_view ua) {
  if (Has(ua, "iPad")) return {Device::kTablet, "iOS"};
  if (Has(ua, "iPhone") || Has(ua, "iPod")) return {Device::kMobile, "iOS"};
  // "Windows Phone 10.0; Android 6.0.1; ..." names Android too; uap calls it "Windows Phone".
  if (Has(ua, "Windows Phone")) return {Device::kMobile, ""};
  // Apps' own HTTP client on Apple systems ("Yelp/8.0.0 CFNetwork/672.1.14 Darwin/14.0.0"): iOS,
  // unless it names a Mac's processor, as uap reads them.
  if (Has(ua, "CFNetwork/")) {
    return Has(ua, "x86_64") || Has(ua, "i386") || Has(ua, "Mac")
               ? UserAgentFacts{Device::kDesktop, "macOS"}
               : UserAgentFacts{Device::kMobile, "iOS"};
  }
  const bool mobi = Has(ua, "Mobi");  // "Mobile", "Mobi/", MDN's rule
  const bool tablet = Has(ua, "Tablet") || Has(ua, "Kindle") || Has(ua, "Silk/");
  if (Has(ua, "Android")) {
    // Google's rule: Android phones say "Mobile", Android tablets do not.
    return {tablet || !Has(ua, "Mobile") ? Device::kTablet : Device::kMobile, "Android"};
  }
  UserAgentFacts facts;
  if (Has(ua, "CrOS")) {
    facts.os = "ChromeOS";
  } else if (Has(ua, "Windows")) {
    facts.os = "Windows";
  } else if (Has(ua, "Macintosh") || Has(ua, "Mac OS X")) {
    facts.os = "macOS";
  } else if (Has(ua, "Linux")) {
    facts.os = "Linux";
  }
  if (tablet) {
    facts.device = Device::kTablet;
  } else if (mobi || Has(ua, "Opera Mini") || Has(ua, "Symbian") || Has(ua, "MIDP")) {
    facts.device = Device::kMobile;
  }
  return facts;
}

// An `os` value as CanonicalOs compares it: lower case without ' ', '-', '_'. Empty when it does
// not fit (longer than any name CanonicalOs knows).
struct FoldedOs {
  std::array<char, kMaxOsLength> text{};
  std::size_t size = 0;
  std::string_view view() const { return {text.data(), size}; }
};

FoldedOs FoldOs(std::string_view os) {
  FoldedOs folded;
  for (const char c : os) {
    if (c == ' ' || c == '-' || c == '_') continue;
    if (folded.size == folded.text.size()) return {};
    folded.text[folded.size++] = Lower(c);
  }
  return folded;
}

struct OsAlias {
  std::string_view folded;
  std::string_view canonical;
};

constexpr OsAlias kOsAliases[] = {
    {"ios", "iOS"},         {"ipados", "iOS"},        {"iphoneos", "iOS"},
    {"android", "Android"}, {"windows", "Windows"},   {"windowsnt", "Windows"},
    {"macos", "macOS"},     {"macosx", "macOS"},      {"osx", "macOS"},
    {"mac", "macOS"},       {"chromeos", "ChromeOS"}, {"cros", "ChromeOS"},
    {"linux", "Linux"},     {"ubuntu", "Linux"},      {"kubuntu", "Linux"},
    {"xubuntu", "Linux"},   {"debian", "Linux"},      {"fedora", "Linux"},
    {"redhat", "Linux"},    {"centos", "Linux"},      {"suse", "Linux"},
    {"opensuse", "Linux"},  {"gentoo", "Linux"},      {"mint", "Linux"},
    {"linuxmint", "Linux"}, {"archlinux", "Linux"},   {"manjaro", "Linux"},
    {"slackware", "Linux"},
};

bool IsZeroWeight(std::string_view q) {
  // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); only zero refuses.
  if (q.empty() || q.front() != '0') return false;
  q.remove_prefix(1);
  if (q.empty()) return true;
  if (q.front() != '.') return false;
  q.remove_prefix(1);
  for (const char c : q) {
    if (c != '0') return false;
  }
  return true;
}

// Whether one Accept-Language entry ("de-AT;q=0.8") accepts `primary`.
bool EntryAccepts(std::string_view entry, std::string_view primary) {
  std::string_view tag = TrimBlanks(TakeUntil(entry, ';'));
  while (!entry.empty()) {
    const std::string_view param = TrimBlanks(TakeUntil(entry, ';'));
    if (param.size() >= 2 && Lower(param[0]) == 'q' && param[1] == '=' &&
        IsZeroWeight(TrimBlanks(param.substr(2)))) {
      return false;
    }
  }
  const std::size_t end = tag.find_first_of("-_");
  if (end != std::string_view::npos) tag = tag.substr(0, end);
  return EqualsNoCase(tag, primary);
}

// splitmix64's finaliser: every input bit reaches every output bit.
std::uint64_t Mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

bool AnyEqualsNoCase(const std::vector<std::string>& values, std::string_view fact) {
  if (fact.empty()) return false;
  for (const std::string& v : values) {
    if (EqualsNoCase(v, fact)) return true;
  }
  return false;
}

bool AnyOs(const std::vector<std::string>& values, std::string_view fact) {
  if (fact.empty()) return false;
  for (const std::string& v : values) {
    if (CanonicalOs(v) == fact) return true;
  }
  return false;
}

bool AnyLanguage(const std::vector<std::string>& values, std::string_view accept_language) {
  for (const std::string& v : values) {
    if (AcceptsLanguage(accept_language, v)) return true;
  }
  return false;
}

// Bytes a URL query may not hold as they are (WHATWG's query percent-encode set, plus DEL): they
// would break the header value or the URL, or start a fragment.
bool NeedsEscape(unsigned char c) {
  return c <= 0x20 || c >= 0x7f || c == '"' || c == '#' || c == '<' || c == '>';
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void AppendEscapedQuery(std::string_view query, std::string& out) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::size_t run = 0;  // the start of the bytes kept as they are, appended in one piece
  for (std::size_t i = 0; i < query.size(); ++i) {
    const auto c = static_cast<unsigned char>(query[i]);
    const bool keep = c == '%' ? i + 2 < query.size() && IsHex(query[i + 1]) && IsHex(query[i + 2])
                               : !NeedsEscape(c);
    if (keep) continue;
    out.append(query.substr(run, i - run));
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
    run = i + 1;
  }
  out.append(query.substr(run));
}

Result<void> CheckList(const std::vector<std::string>& values, std::size_t index,
                       std::string_view field) {
  if (values.size() > kMaxRuleListEntries) {
    return Fail(ErrorCode::kInvalidArgument, "rules[" + std::to_string(index) + "].if." +
                                                 std::string(field) + " has more than " +
                                                 std::to_string(kMaxRuleListEntries) + " values");
  }
  return {};
}

Result<void> BadValue(std::size_t index, std::string_view field, std::string_view rule) {
  return Fail(ErrorCode::kInvalidArgument, "rules[" + std::to_string(index) + "].if." +
                                               std::string(field) + " " + std::string(rule));
}

}  // namespace

std::string_view DeviceName(Device device) {
  switch (device) {
    case Device::kMobile:
      return "mobile";
    case Device::kTablet:
      return "tablet";
    case Device::kDesktop:
      break;
  }
  return "desktop";
}

Device DeviceOf(std::string_view user_agent) { return ClassifyUserAgent(user_agent).device; }

std::string_view OsOf(std::string_view user_agent) { return ClassifyUserAgent(user_agent).os; }

std::string_view CanonicalOs(std::string_view os) {
  const FoldedOs folded = FoldOs(os);
  if (folded.size == 0) return {};
  const std::string_view key = folded.view();
  for (const OsAlias& alias : kOsAliases) {
    if (alias.folded == key) return alias.canonical;
  }
  return {};
}

bool AcceptsLanguage(std::string_view accept_language, std::string_view primary) {
  if (primary.empty() || primary == "*") return false;
  while (!accept_language.empty()) {
    if (EntryAccepts(TakeUntil(accept_language, ','), primary)) return true;
  }
  return false;
}

void VisitorFacts::ReadUserAgent() {
  const UserAgentFacts facts = ClassifyUserAgent(user_agent_);
  device_ = facts.device;
  os_ = facts.os;
  user_agent_read_ = true;
}

std::string_view VisitorFacts::country() {
  if (!country_read_) {
    country_read_ = true;
    if (country_lookup_ != nullptr) country_ = country_lookup_->Country();
  }
  return country_;
}

Device VisitorFacts::device() {
  if (!user_agent_read_) ReadUserAgent();
  return device_;
}

std::string_view VisitorFacts::os() {
  if (!user_agent_read_) ReadUserAgent();
  return os_;
}

std::uint64_t StickyKey(const IpAddress& ip, Date day, std::uint64_t secret) {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  std::memcpy(&low, ip.data(), sizeof low);
  std::memcpy(&high, ip.data() + sizeof low, sizeof high);
  std::uint64_t h = Mix64(secret ^ (kGolden * static_cast<std::uint64_t>(day.days)));
  h = Mix64(h ^ low);
  return Mix64(h ^ high);
}

std::uint64_t StickySecretOf(std::string_view secret) {
  std::uint64_t h = kGolden;
  for (const char c : secret) h = Mix64(h ^ static_cast<unsigned char>(c)) + kGolden;
  return h;
}

bool RuleHolds(const RuleConditions& when, VisitorFacts& visitor) {
  // The clock and the header first, the User-Agent next, GeoIP last: all must hold, so the first
  // that fails spares the dearer ones.
  if (when.after && visitor.now() < *when.after) return false;
  if (when.before && visitor.now() >= *when.before) return false;
  if (!when.language.empty() && !AnyLanguage(when.language, visitor.accept_language())) {
    return false;
  }
  if (!when.device.empty() && !AnyEqualsNoCase(when.device, DeviceName(visitor.device()))) {
    return false;
  }
  if (!when.os.empty() && !AnyOs(when.os, visitor.os())) return false;
  if (!when.country.empty() && !AnyEqualsNoCase(when.country, visitor.country())) return false;
  return true;
}

ChosenLocation ChooseLocation(const LinkOptions& options, std::string_view default_location,
                              VisitorFacts& visitor) {
  for (std::size_t i = 0; i < options.rules.size(); ++i) {
    if (RuleHolds(options.rules[i].when, visitor)) {
      return {options.rules[i].location, ChosenLocation::From::kRule, i};
    }
  }
  std::uint64_t total = 0;
  for (const LinkOptions::WeightedLocation& v : options.variants) {
    if (v.weight > 0) total += static_cast<std::uint64_t>(v.weight);
  }
  if (total > 0) {
    // Mixed again, so that sticky values that are not spread (a test's 0, 1, 2, ...) still are.
    // The bias of the modulo is below total / 2^64.
    std::uint64_t point = Mix64(visitor.sticky() + kGolden) % total;
    for (std::size_t i = 0; i < options.variants.size(); ++i) {
      const int weight = options.variants[i].weight;
      if (weight <= 0) continue;
      if (point < static_cast<std::uint64_t>(weight)) {
        return {options.variants[i].location, ChosenLocation::From::kVariant, i};
      }
      point -= static_cast<std::uint64_t>(weight);
    }
  }
  return {default_location, ChosenLocation::From::kDefault, 0};
}

Result<void> ValidateRuleConditions(const RuleConditions& when, std::size_t index) {
  const bool any = !when.country.empty() || !when.device.empty() || !when.os.empty() ||
                   !when.language.empty() || when.after.has_value() || when.before.has_value();
  if (!any) {
    return Fail(ErrorCode::kInvalidArgument,
                "rules[" + std::to_string(index) + "].if needs at least one condition");
  }
  for (const auto& [values, field] :
       {std::pair{&when.country, "country"}, std::pair{&when.device, "device"},
        std::pair{&when.os, "os"}, std::pair{&when.language, "language"}}) {
    if (auto checked = CheckList(*values, index, field); !checked) return checked;
  }
  for (const std::string& c : when.country) {
    if (c.size() != 2 || !IsAsciiLetter(c[0]) || !IsAsciiLetter(c[1])) {
      return BadValue(index, "country", "must be ISO 3166-1 alpha-2 codes such as \"DE\"");
    }
  }
  for (const std::string& d : when.device) {
    if (!EqualsNoCase(d, "mobile") && !EqualsNoCase(d, "tablet") && !EqualsNoCase(d, "desktop")) {
      return BadValue(index, "device", "must be mobile, tablet or desktop");
    }
  }
  for (const std::string& o : when.os) {
    bool printable = true;
    for (const char c : o) printable = printable && c >= 0x20 && c < 0x7f;
    if (o.empty() || o.size() > kMaxOsLength || !printable) {
      return BadValue(index, "os",
                      "must be 1 to " + std::to_string(kMaxOsLength) +
                          R"( printable ASCII characters, such as "iOS" or "Android")");
    }
  }
  for (const std::string& l : when.language) {
    bool letters = l.size() >= 2 && l.size() <= 3;
    for (const char c : l) letters = letters && IsAsciiLetter(c);
    if (!letters) {
      return BadValue(index, "language",
                      "must be primary language subtags of 2 or 3 letters, such as \"de\"");
    }
  }
  if (when.after && when.before && *when.after >= *when.before) {
    return BadValue(index, "after",
                    "must be before rules[" + std::to_string(index) + "].if.before");
  }
  return {};
}

Result<void> ValidateRules(std::span<const TargetRule> rules) {
  if (rules.size() > kMaxRules) {
    return Fail(ErrorCode::kInvalidArgument,
                "rules has more than " + std::to_string(kMaxRules) + " rules");
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (auto checked = ValidateRuleConditions(rules[i].when, i); !checked) return checked;
  }
  return {};
}

Result<void> ValidateVariants(std::span<const Variant> variants) {
  if (!variants.empty() && (variants.size() < kMinVariants || variants.size() > kMaxVariants)) {
    return Fail(ErrorCode::kInvalidArgument, "variants must have " + std::to_string(kMinVariants) +
                                                 " to " + std::to_string(kMaxVariants) +
                                                 " entries");
  }
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const int weight = variants[i].weight;
    if (weight < kMinVariantWeight || weight > kMaxVariantWeight) {
      return Fail(ErrorCode::kInvalidArgument, "variants[" + std::to_string(i) +
                                                   "].weight must be " +
                                                   std::to_string(kMinVariantWeight) + " to " +
                                                   std::to_string(kMaxVariantWeight));
    }
  }
  return {};
}

void NormalizeRuleConditions(RuleConditions& when) {
  for (std::string& c : when.country) {
    for (char& ch : c) ch = ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch;
  }
  for (std::string& d : when.device) {
    for (char& ch : d) ch = Lower(ch);
  }
  for (std::string& l : when.language) {
    for (char& ch : l) ch = Lower(ch);
  }
  for (std::string& o : when.os) {
    if (const std::string_view canonical = CanonicalOs(o); !canonical.empty()) o = canonical;
  }
}

void AppendQuery(std::string_view location, std::string_view query, std::string& out) {
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  if (query.empty()) {
    out.append(location);
    return;
  }
  const std::size_t hash = location.find('#');
  const std::string_view before_fragment = location.substr(0, hash);
  const std::string_view fragment =
      hash == std::string_view::npos ? std::string_view() : location.substr(hash);
  out.reserve(out.size() + location.size() + 1 + (3 * query.size()));
  out.append(before_fragment);
  if (before_fragment.find('?') == std::string_view::npos) {
    out.push_back('?');
  } else if (before_fragment.back() != '?' && before_fragment.back() != '&') {
    out.push_back('&');
  }
  AppendEscapedQuery(query, out);
  out.append(fragment);
}

}  // namespace kurz::core
