#pragma once

// Which destination a visitor of a link with rules or variants is sent to (API.md, "Which
// destination"), and the short URL's query forwarded to it ("forward_query"). Pure and
// allocation-free on the redirect path: the facts a rule needs are read from the request only when
// some rule asks for them, so a link whose rules test only the clock pays for no User-Agent
// classification and no GeoIP lookup.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/ip.hpp"
#include "core/link_options.hpp"
#include "core/redirect.hpp"
#include "core/time.hpp"

namespace kurz::core {

// --- The User-Agent ---------------------------------------------------------------------------

// The device classes of the `device` condition. Every visitor is one of them: what is neither
// mobile nor tablet (desktops, command-line clients, an empty or unknown User-Agent, bots that do
// not pose as a phone) is a desktop.
enum class Device : std::uint8_t { kMobile, kTablet, kDesktop };

// "mobile", "tablet" or "desktop": the names of the `device` condition and of the stats.
std::string_view DeviceName(Device device);

// The device class of a User-Agent, by substring tests in the order of the analytics side
// (adapters/uap/uap_parser.hpp, Classify), so the common cases agree with what the stats show:
// iPad, "Tablet", Kindle / Silk, and Android without "Mobile" (Google's rule) are tablets; iPhone,
// iPod, Android with "Mobile", Windows Phone, Opera Mini, Symbian / MIDP phones, iOS apps' own
// HTTP client (CFNetwork, unless it names a Mac) and anything with "Mobi" (MDN's rule) are mobile.
// iPadOS 13+ Safari sends the Mac desktop User-Agent by default ("Macintosh; Intel Mac OS X");
// nothing in the string tells it from a Mac, so it is a desktop running macOS, as the stats count
// it too. No regex, no allocation.
Device DeviceOf(std::string_view user_agent);

// The operating system of a User-Agent: "iOS" (iPhone, iPad, iPod, CFNetwork apps), "Android",
// "ChromeOS" ("CrOS"), "Windows" ("Windows NT", not Windows Phone), "macOS" ("Macintosh" / "Mac OS
// X"), "Linux" (every distribution), or "" when unknown (empty, bots, BSDs, Windows Phone, ...).
// The stats name two of them the uap way ("Mac OS X", "Chrome OS") and distributions by name
// ("Ubuntu"); the `os` condition accepts those spellings (CanonicalOs). Static text; no
// allocation.
std::string_view OsOf(std::string_view user_agent);

// The name OsOf uses for an `os` condition value, compared case-insensitively and ignoring spaces,
// '-' and '_': "ios" / "iPadOS" / "iPhone OS" → "iOS", "Mac OS X" / "Mac OS" / "OS X" / "macos" →
// "macOS", "Chrome OS" / "chromeos" / "CrOS" → "ChromeOS", "android", "windows", and "linux" or a
// common distribution name ("Ubuntu", "Debian", "Fedora", ...) → "Linux"; "" for anything else,
// which then matches no visitor.
std::string_view CanonicalOs(std::string_view os);

// --- Accept-Language --------------------------------------------------------------------------

// Whether an Accept-Language header (RFC 9110 12.5.4) accepts the language `primary` (a primary
// subtag such as "de"): some entry's primary subtag ("de" of "de-AT" or "de_AT") equals it,
// case-insensitively, and that entry is not refused with q=0 (a weight of "0", "0.0", ... ; any
// other weight, a malformed one included, accepts). "*" accepts any language but prefers none, so
// it matches no `language` condition; an empty or garbage header matches nothing. No allocation.
bool AcceptsLanguage(std::string_view accept_language, std::string_view primary);

// --- The visitor ------------------------------------------------------------------------------

// Where a visitor's country comes from. A GeoIP lookup costs; ChooseLocation asks at most once per
// choice, and only when a rule it reaches tests `country`.
class CountryLookup {
 public:
  // The visitor's ISO 3166-1 alpha-2 code in any case ("DE"), or "" (or "ZZ") when unknown. The
  // text must stay valid until ChooseLocation returns.
  virtual std::string_view Country() = 0;

 protected:
  ~CountryLookup() = default;
};

// The facts of one request that the rules and variants test. Views into the request: use it while
// the request lives. The User-Agent is classified on the first device() or os() and the country
// looked up on the first country(), each at most once; the rest is given.
class VisitorFacts {
 public:
  // `sticky`: the same value for the same visitor all day (StickyKey); only variants read it.
  // `country`: null when there is no GeoIP database (every country condition fails).
  VisitorFacts(std::string_view user_agent, std::string_view accept_language, std::uint64_t sticky,
               Micros now, CountryLookup* country = nullptr)
      : user_agent_(user_agent),
        accept_language_(accept_language),
        sticky_(sticky),
        now_(now),
        country_lookup_(country) {}

  std::string_view country();  // "" when unknown
  Device device();
  std::string_view os();  // as OsOf
  std::string_view accept_language() const { return accept_language_; }
  std::uint64_t sticky() const { return sticky_; }
  Micros now() const { return now_; }

  // Whether the User-Agent was classified / the country looked up: what a choice cost (tests,
  // benchmarks).
  bool user_agent_read() const { return user_agent_read_; }
  bool country_read() const { return country_read_; }

 private:
  void ReadUserAgent();

  std::string_view user_agent_;
  std::string_view accept_language_;
  std::uint64_t sticky_;
  Micros now_;
  CountryLookup* country_lookup_;
  std::string_view country_;
  std::string_view os_;
  Device device_ = Device::kDesktop;
  bool user_agent_read_ = false;
  bool country_read_ = false;
};

// A fast keyed mix of (IP, day): the same visitor gets the same value all day, and visitors spread
// evenly over the values. Not a secret-keeping hash (the analytics' visitor ids are HMACs): it only
// chooses variants, and knowing it lets one predict nothing but one's own variant. `secret` keeps
// an outsider from steering addresses into a variant (StickySecretOf). No allocation.
std::uint64_t StickyKey(const IpAddress& ip, Date day, std::uint64_t secret);

// The 64-bit key of StickyKey made from an operator's secret text, once at startup.
std::uint64_t StickySecretOf(std::string_view secret);

// --- The choice -------------------------------------------------------------------------------

// Where a visitor is sent, and why: the click records `location` as its destination.
struct ChosenLocation {
  enum class From : std::uint8_t { kDefault, kRule, kVariant };
  std::string_view location;  // a view into the options or into default_location
  From from = From::kDefault;
  std::size_t index = 0;  // the rule's or the variant's position (kRule, kVariant)
  friend bool operator==(const ChosenLocation&, const ChosenLocation&) = default;
};

// Whether every condition of `when` holds for the visitor: inside one list any value may match
// (country and os case-insensitively, os as CanonicalOs, device by name, language as
// AcceptsLanguage), `after` is inclusive and `before` exclusive. Cheap conditions are tested
// first, so a failing clock condition spares the User-Agent and GeoIP.
bool RuleHolds(const RuleConditions& when, VisitorFacts& visitor);

// The first rule whose conditions all hold; else a variant by weight, the same one for the same
// sticky value and visitors spread in proportion to the weights; else `default_location` (the
// link's own). Variants whose weights are not positive are never chosen. No allocation.
ChosenLocation ChooseLocation(const LinkOptions& options, std::string_view default_location,
                              VisitorFacts& visitor);

// --- Validation (for LinkService; messages name the field as the API spells it) ----------------

inline constexpr std::size_t kMaxRuleListEntries = 20;  // values in one condition's list
inline constexpr std::size_t kMaxOsLength = 32;

// One rule's conditions (its position is `index`): at least one condition; every list at most
// kMaxRuleListEntries values; country two ASCII letters, device "mobile" / "tablet" / "desktop",
// os 1–32 printable ASCII characters, language 2–3 ASCII letters (any case; Normalize fixes it);
// after before before when both are given. invalid_argument naming the field ("rules[2].if.device
// must be mobile, tablet or desktop") otherwise.
Result<void> ValidateRuleConditions(const RuleConditions& when, std::size_t index);

// At most kMaxRules rules, each as ValidateRuleConditions. The URLs are ValidateUrl's.
Result<void> ValidateRules(std::span<const TargetRule> rules);

// None (the link has no variants), or kMinVariants–kMaxVariants of them, each weight
// kMinVariantWeight–kMaxVariantWeight ("variants[1].weight must be 1 to 100"). The URLs are
// ValidateUrl's.
Result<void> ValidateVariants(std::span<const Variant> variants);

// The stored spelling of valid conditions: countries upper case, devices and languages lower
// case, os values as CanonicalOs when it knows them (kept as given otherwise). Matching does not
// need it (it ignores case); reads show one spelling.
void NormalizeRuleConditions(RuleConditions& when);

// --- forward_query ----------------------------------------------------------------------------

// Appends to `out` the Location `location` with the short URL's raw request `query` (without its
// '?'; one leading '?' is dropped) added to its own query, before any fragment:
//   "https://x/p?a=1#frag" + "utm_x=2" → "https://x/p?a=1&utm_x=2#frag"
//   "https://x/p"          + "utm_x=2" → "https://x/p?utm_x=2"
// No '&' is doubled when the destination's query is empty or ends in one ("https://x/p?"). An
// empty query appends `location` unchanged. The query arrives as the client sent it; so that the
// Location stays one valid header value and one URL, the bytes a browser would not send raw in a
// query (WHATWG's query percent-encode set: controls, space, '"', '#', '<', '>', non-ASCII; and
// DEL, and a '%' that starts no escape) are percent-encoded, which keeps what they said; every
// other byte is kept as sent. Allocates only when `out` lacks the capacity (reserve location.size()
// + 1 + 3 * query.size()).
void AppendQuery(std::string_view location, std::string_view query, std::string& out);

}  // namespace kurz::core
