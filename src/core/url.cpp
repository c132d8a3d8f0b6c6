#include "core/url.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace kurz::core {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
constexpr bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

std::string AsciiLowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
// Appends the code points to out when it is not null.
bool DecodeUtf8(std::string_view s, std::vector<char32_t>* out) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      if (out != nullptr) out->push_back(b0);
      ++i;
      continue;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80;  // allowed range of the second byte
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
      cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      cp = b0 & 0x0F;
      if (b0 == 0xE0) lo = 0xA0;  // overlong
      if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      cp = b0 & 0x07;
      if (b0 == 0xF0) lo = 0x90;  // overlong
      if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (out != nullptr) out->push_back(cp);
    i += len;
  }
  return true;
}

// RFC 3492 parameters.
constexpr std::uint32_t kBase = 36;
constexpr std::uint32_t kTMin = 1;
constexpr std::uint32_t kTMax = 26;
constexpr std::uint32_t kSkew = 38;
constexpr std::uint32_t kDamp = 700;
constexpr std::uint32_t kInitialBias = 72;
constexpr std::uint32_t kInitialN = 0x80;
constexpr std::uint64_t kMaxDelta = 0xFFFFFFFFULL;

constexpr char PunycodeDigit(std::uint32_t d) {
  return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
}

constexpr std::uint32_t Adapt(std::uint64_t delta, std::uint64_t num_points, bool first_time) {
  delta = first_time ? delta / kDamp : delta / 2;
  delta += delta / num_points;
  std::uint32_t k = 0;
  while (delta > ((kBase - kTMin) * kTMax) / 2) {
    delta /= kBase - kTMin;
    k += kBase;
  }
  return static_cast<std::uint32_t>(k + (kBase - kTMin + 1) * delta / (delta + kSkew));
}

std::optional<std::string> Punycode(const std::vector<char32_t>& input) {
  std::string output;
  for (const char32_t c : input) {
    if (c < kInitialN) output.push_back(static_cast<char>(c));
  }
  const std::size_t basic = output.size();
  std::size_t handled = basic;
  if (basic > 0) output.push_back('-');

  std::uint64_t n = kInitialN;
  std::uint64_t delta = 0;
  std::uint32_t bias = kInitialBias;
  while (handled < input.size()) {
    std::uint64_t m = UINT64_MAX;
    for (const char32_t c : input) {
      if (c >= n && c < m) m = c;
    }
    delta += (m - n) * (handled + 1);
    if (delta > kMaxDelta) return std::nullopt;
    n = m;
    for (const char32_t c : input) {
      if (c < n && ++delta > kMaxDelta) return std::nullopt;
      if (c != n) continue;
      std::uint64_t q = delta;
      for (std::uint32_t k = kBase;; k += kBase) {
        const std::uint32_t t = k <= bias ? kTMin : (k >= bias + kTMax ? kTMax : k - bias);
        if (q < t) break;
        output.push_back(PunycodeDigit(static_cast<std::uint32_t>(t + (q - t) % (kBase - t))));
        q = (q - t) / (kBase - t);
      }
      output.push_back(PunycodeDigit(static_cast<std::uint32_t>(q)));
      bias = Adapt(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return output;
}

// IDNA (RFC 3490 3.1) treats these as label separators too: U+3002, U+FF0E, U+FF61.
std::string NormaliseDots(std::string_view host) {
  std::string out;
  out.reserve(host.size());
  for (std::size_t i = 0; i < host.size(); ++i) {
    const std::string_view rest = host.substr(i);
    if (rest.starts_with("\xE3\x80\x82") || rest.starts_with("\xEF\xBC\x8E") ||
        rest.starts_with("\xEF\xBD\xA1")) {
      out.push_back('.');
      i += 2;
    } else {
      out.push_back(host[i]);
    }
  }
  return out;
}

// The ASCII form of a host: lowercased, each non-ASCII label as "xn--" + punycode. This is the
// core of IDNA ToASCII only: ASCII letters are lowercased but there is no Unicode case folding
// and no NFC normalisation (UTS #46 mapping), so a label must already be in the form that was
// registered, e.g. "bücher" rather than "BÜCHER" or a decomposed "u" + U+0308.
std::optional<std::string> HostToAscii(std::string_view host) {
  if (host.starts_with('[')) return AsciiLowered(host);
  const std::string normalised = NormaliseDots(host);
  std::string out;
  out.reserve(normalised.size() + 8);
  std::string_view rest = normalised;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string lowered = AsciiLowered(rest.substr(0, dot));
    bool ascii = true;
    for (const char c : lowered) ascii = ascii && !IsNonAscii(c);
    if (ascii) {
      out += lowered;
    } else {
      std::vector<char32_t> cps;
      if (!DecodeUtf8(lowered, &cps)) return std::nullopt;
      const std::optional<std::string> encoded = Punycode(cps);
      if (!encoded) return std::nullopt;
      out += "xn--";
      out += *encoded;
    }
    if (dot == std::string_view::npos) break;
    out.push_back('.');
    rest.remove_prefix(dot + 1);
  }
  return out;
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  while (true) {
    const std::size_t dot = s.find('.');
    const std::string_view part = s.substr(0, dot);
    // Leading zeros are refused: some resolvers read them as octal.
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int value = 0;
    for (const char c : part) {
      if (!IsDigit(c)) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255 || ++parts > 4) return false;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

// RFC 3986 IPv6address, without zone identifiers or IPvFuture.
bool IsIpv6(std::string_view s) {
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.starts_with("::")) {
    compressed = true;
    i = 2;
  } else if (s.starts_with(':')) {
    return false;
  }
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && j - i < 5 && IsHexDigit(s[j])) ++j;
    if (j < s.size() && s[j] == '.') {
      if (!IsIpv4(s.substr(i))) return false;
      groups += 2;
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    i = j;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
    } else if (i == s.size()) {
      return false;
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

// reg-name as DNS would take it: dot-separated labels (one trailing dot allowed) of letters,
// digits, '-' and non-ASCII (IDN). '_' is allowed too: it is not valid in a hostname but common
// in real subdomains and every browser accepts it. A host whose last label is numeric must be a
// plain dotted-quad IPv4 address, so that "1.2.3", "0x7f.1" or "999.0.0.1" are refused.
bool IsValidRegName(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty()) return false;
  std::string_view last;
  std::string_view rest = host;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty()) return false;
    for (const char c : label) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '_' && !IsNonAscii(c)) return false;
    }
    last = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  bool numeric = true;
  for (const char c : last) numeric = numeric && IsDigit(c);
  return !numeric || IsIpv4(host);
}

// Limits of DNS on the ASCII form: labels of at most 63 bytes, names of at most 253.
bool FitsDns(std::string_view ascii_host) {
  if (ascii_host.starts_with('[')) return true;
  if (ascii_host.ends_with('.')) ascii_host.remove_suffix(1);
  if (ascii_host.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : ascii_host) {
    label = c == '.' ? 0 : label + 1;
    if (label > 63) return false;
  }
  return true;
}

struct Authority {
  std::string_view host;  // IPv6 literals keep their brackets
  std::optional<std::string_view> port;
};

// Splits host[:port]; only fails on an unterminated or trailing-junk IPv6 literal.
std::optional<Authority> SplitAuthority(std::string_view authority) {
  Authority a;
  std::size_t host_end = 0;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host_end = close + 1;
    if (host_end < authority.size() && authority[host_end] != ':') return std::nullopt;
  } else {
    host_end = std::min(authority.find(':'), authority.size());
  }
  a.host = authority.substr(0, host_end);
  if (host_end < authority.size()) a.port = authority.substr(host_end + 1);
  return a;
}

// RFC 3986 port = *DIGIT; here it must also name a real port.
std::optional<std::uint32_t> ParsePort(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint32_t value = 0;
  for (const char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return std::nullopt;
  }
  if (value == 0) return std::nullopt;
  return value;
}

struct UrlParts {
  std::string_view scheme;
  Authority authority;
  std::string_view tail;  // path, query and fragment, from the first '/', '?' or '#'
};

// Splits an absolute URL. Messages name the rule that failed.
Result<UrlParts> SplitUrl(std::string_view url) {
  const std::size_t colon = url.find(':');
  bool has_scheme = colon != std::string_view::npos && colon > 0 && IsAlpha(url[0]);
  for (std::size_t i = 0; has_scheme && i < colon; ++i) {
    const char c = url[i];
    has_scheme = IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.';
  }
  if (!has_scheme) {
    return Fail(ErrorCode::kInvalidUrl, "url must be absolute and start with http:// or https://");
  }
  UrlParts parts;
  parts.scheme = url.substr(0, colon);
  if (!EqualsIgnoreCase(parts.scheme, "http") && !EqualsIgnoreCase(parts.scheme, "https")) {
    return Fail(ErrorCode::kInvalidUrl, "url must use http or https");
  }
  std::string_view rest = url.substr(colon + 1);
  if (!rest.starts_with("//")) return Fail(ErrorCode::kInvalidUrl, "url must have a host");
  rest.remove_prefix(2);
  const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  parts.tail = rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidUrl, "url must not contain user information");
  }
  const std::optional<Authority> split = SplitAuthority(authority);
  if (!split) return Fail(ErrorCode::kInvalidUrl, "url has an invalid host");
  parts.authority = *split;
  if (parts.authority.host.empty()) return Fail(ErrorCode::kInvalidUrl, "url must have a host");
  return parts;
}

std::uint32_t DefaultPort(std::string_view scheme) {
  return EqualsIgnoreCase(scheme, "https") ? 443 : 80;
}

std::string_view WithoutTrailingDot(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  return host;
}

// Whether the URL's host and port are this service's (self_host is "host" or "host:port").
// A self_host without a port, or with 80 or 443, was reached through a default port, so both
// default ports count; the scheme of the URL matters only through its default port.
bool PointsAtSelf(const UrlParts& parts, std::string_view ascii_host, std::string_view self_host) {
  // Tolerates a whole base URL ("https://sho.rt/") as well as its authority.
  if (const std::size_t scheme_end = self_host.find("://"); scheme_end != std::string_view::npos) {
    self_host.remove_prefix(scheme_end + 3);
  }
  self_host = self_host.substr(0, self_host.find('/'));
  if (self_host.empty()) return false;
  const std::optional<Authority> self = SplitAuthority(self_host);
  if (!self || self->host.empty()) return false;
  const std::optional<std::string> self_ascii = HostToAscii(self->host);
  if (!self_ascii || WithoutTrailingDot(*self_ascii) != WithoutTrailingDot(ascii_host)) {
    return false;
  }
  const std::uint32_t url_port = parts.authority.port ? ParsePort(*parts.authority.port).value_or(0)
                                                      : DefaultPort(parts.scheme);
  std::optional<std::uint32_t> self_port;
  if (self->port) self_port = ParsePort(*self->port);
  if (!self_port || *self_port == 80 || *self_port == 443) {
    return url_port == 80 || url_port == 443;
  }
  return url_port == *self_port;
}

// Path, query and fragment in ASCII: non-ASCII bytes (UTF-8) become %XX; so do bytes a browser
// would encode in every component (controls, space, '"', '<', '>'). Existing %XX stay as they are.
void AppendEncodedTail(std::string& out, std::string_view tail) {
  for (const char c : tail) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F || c == '"' || c == '<' || c == '>') {
      out.push_back('%');
      out.push_back(kHexUpper[b >> 4]);
      out.push_back(kHexUpper[b & 0x0F]);
    } else {
      out.push_back(c);
    }
  }
}

std::optional<std::string> BuildAsciiUrl(const UrlParts& parts) {
  const std::optional<std::string> host = HostToAscii(parts.authority.host);
  if (!host) return std::nullopt;
  std::string out = AsciiLowered(parts.scheme);
  out += "://";
  out += *host;
  if (parts.authority.port) {
    out.push_back(':');
    out += *parts.authority.port;
  }
  AppendEncodedTail(out, parts.tail);
  return out;
}

}  // namespace

Result<ValidatedUrl> ValidateUrl(std::string_view url, std::string_view self_host) {
  if (url.size() > kMaxUrlLength) {
    return Fail(ErrorCode::kInvalidUrl, "url is longer than 2048 bytes");
  }
  for (const char c : url) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7F) {
      return Fail(ErrorCode::kInvalidUrl, "url must not contain spaces or control characters");
    }
  }
  if (!DecodeUtf8(url, nullptr)) return Fail(ErrorCode::kInvalidUrl, "url is not valid UTF-8");

  Result<UrlParts> parts = SplitUrl(url);
  if (!parts) return std::unexpected(std::move(parts.error()));
  const Authority& authority = parts->authority;
  if (authority.port && !ParsePort(*authority.port)) {
    return Fail(ErrorCode::kInvalidUrl, "url has an invalid port (must be 1 to 65535)");
  }
  const std::string_view host = authority.host;
  const bool host_ok = host.starts_with('[') ? IsIpv6(host.substr(1, host.size() - 2))
                                             : IsValidRegName(NormaliseDots(host));
  const std::optional<std::string> ascii_host = host_ok ? HostToAscii(host) : std::nullopt;
  if (!ascii_host || !FitsDns(*ascii_host)) {
    return Fail(ErrorCode::kInvalidUrl, "url has an invalid host");
  }
  if (PointsAtSelf(*parts, *ascii_host, self_host)) {
    return Fail(ErrorCode::kInvalidUrl, "url points at this service");
  }
  std::optional<std::string> location = BuildAsciiUrl(*parts);
  if (!location) return Fail(ErrorCode::kInvalidUrl, "url has an invalid host");
  return ValidatedUrl{std::string(url), std::move(*location)};
}

std::string ToAsciiUrl(std::string_view url) {
  if (const Result<UrlParts> parts = SplitUrl(url)) {
    if (std::optional<std::string> out = BuildAsciiUrl(*parts)) return std::move(*out);
  }
  // Not a URL ValidateUrl would accept: still never emit raw non-ASCII or control bytes.
  std::string out;
  AppendEncodedTail(out, url);
  return out;
}

Result<std::string> PunycodeEncode(std::string_view utf8_label) {
  std::vector<char32_t> cps;
  if (!DecodeUtf8(utf8_label, &cps)) {
    return Fail(ErrorCode::kInvalidArgument, "label is not valid UTF-8");
  }
  std::optional<std::string> out = Punycode(cps);
  if (!out) return Fail(ErrorCode::kInvalidArgument, "label is too long for punycode");
  return std::move(*out);
}

}  // namespace kurz::core
