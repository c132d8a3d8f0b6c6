#include "analytics/click_message.hpp"

#include <charconv>
#include <cstdio>

#include "core/short_code.hpp"

namespace kurz::analytics {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHex64(std::string& out, std::uint64_t v) {
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHexDigits[(v >> shift) & 15]);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
std::size_t Utf8Length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b == 0xED && b1 > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b == 0xF4 && b1 > 0x8F) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

// A JSON string: quotes, backslashes and control characters escaped; bytes that are not valid
// UTF-8 (headers may carry anything) become U+FFFD, so the message is always valid JSON.
void AppendString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHexDigits[c >> 4]);
      out.push_back(kHexDigits[c & 15]);
      ++i;
    } else if (const std::size_t n = Utf8Length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out.push_back('"');
}

void AppendKey(std::string& out, std::string_view key) {
  out.push_back('"');
  out += key;
  out += "\":";
}

bool IsHex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

}  // namespace

void MessageOf(const core::ClickEvent& event, VisitorHasher& visitors, const ports::GeoLocator& geo,
               ClickMessage& out) {
  out.id.clear();
  AppendHex64(out.id, event.id_hi);
  AppendHex64(out.id, event.id_lo);
  out.at = event.at;
  out.code.assign(event.code.view());
  const VisitorId visitor = visitors.Id(event.ip, core::DateOf(event.at));
  out.visitor.clear();
  for (std::uint8_t b : visitor) {
    out.visitor.push_back(kHexDigits[b >> 4]);
    out.visitor.push_back(kHexDigits[b & 15]);
  }
  ports::GeoInfo where = geo.Locate(event.ip);
  out.country = std::move(where.country);
  out.city = std::move(where.city);
  out.user_agent.assign(event.user_agent.view());
  out.referrer.assign(event.referrer.view());
  out.accept_language.assign(event.accept_language.view());
  out.head = event.head;
}

void EncodeClickMessage(const ClickMessage& m, std::string& out) {
  out += "{\"v\":1,";
  AppendKey(out, "id");
  AppendString(out, m.id);
  out.push_back(',');
  AppendKey(out, "ts");
  char digits[24];
  const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), m.at);
  out.append(digits, end);
  out.push_back(',');
  AppendKey(out, "code");
  AppendString(out, m.code);
  out.push_back(',');
  AppendKey(out, "visitor");
  AppendString(out, m.visitor);
  out.push_back(',');
  AppendKey(out, "country");
  AppendString(out, m.country);
  out.push_back(',');
  AppendKey(out, "city");
  AppendString(out, m.city);
  out.push_back(',');
  AppendKey(out, "ua");
  AppendString(out, m.user_agent);
  out.push_back(',');
  AppendKey(out, "referrer");
  AppendString(out, m.referrer);
  out.push_back(',');
  AppendKey(out, "lang");
  AppendString(out, m.accept_language);
  out.push_back(',');
  AppendKey(out, "head");
  out += m.head ? "true}" : "false}";
}

namespace {

// A reader of one JSON text, just enough for click messages: the worker parses one per click,
// and a general-purpose DOM costs about three times the rest of the pipeline. Strict RFC 8259
// syntax; values of keys it does not know are skipped whatever they are.
class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  void Space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool At(char c) {
    Space();
    return p_ < end_ && *p_ == c;
  }
  bool Eat(char c) {
    if (!At(c)) return false;
    ++p_;
    return true;
  }
  bool AtEnd() {
    Space();
    return p_ == end_;
  }
  bool Literal(std::string_view word) {
    Space();
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // A string value into `out` (unescaped, UTF-8).
  bool String(std::string& out) {
    if (!Eat('"')) return false;
    out.clear();
    for (;;) {
      const char* run = p_;
      while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) {
        ++p_;
      }
      out.append(run, p_);
      if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
      if (*p_++ == '"') return true;
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair
            std::uint32_t low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
  }

  // A number; `integer` tells whether it had neither fraction nor exponent (and fits).
  bool Number(std::int64_t& value, bool& integer) {
    Space();
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    const char* digits_end = p_;
    integer = true;
    if (p_ < end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (integer) {
      const auto [ptr, ec] = std::from_chars(start, digits_end, value);
      integer = ec == std::errc() && ptr == digits_end;
    }
    return true;
  }

  // Any value, skipped (nesting bounded).
  bool Skip(int depth = 0) {
    if (depth > 64) return false;
    Space();
    if (p_ == end_) return false;
    switch (*p_) {
      case '"': {
        std::string ignored;
        return String(ignored);
      }
      case '{': {
        ++p_;
        if (Eat('}')) return true;
        do {
          std::string key;
          if (!String(key) || !Eat(':') || !Skip(depth + 1)) return false;
        } while (Eat(','));
        return Eat('}');
      }
      case '[': {
        ++p_;
        if (Eat(']')) return true;
        do {
          if (!Skip(depth + 1)) return false;
        } while (Eat(','));
        return Eat(']');
      }
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default: {
        std::int64_t ignored = 0;
        bool integer = false;
        return Number(ignored, integer);
      }
    }
  }

 private:
  bool Hex4(std::uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  static void AppendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  const char* p_;
  const char* end_;
};

}  // namespace

core::Result<void> DecodeClickMessage(std::string_view text, ClickMessage& out) {
  auto bad = [](std::string why) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "click message: " + std::move(why));
  };
  enum Kind : std::uint8_t { kMissing, kNull, kString, kInteger, kNumber, kBool, kOther };
  struct Field {
    std::string_view key;
    std::string* text;
    Kind kind = kMissing;
  };
  Field fields[] = {{"id", &out.id},
                    {"code", &out.code},
                    {"visitor", &out.visitor},
                    {"country", &out.country},
                    {"city", &out.city},
                    {"ua", &out.user_agent},
                    {"referrer", &out.referrer},
                    {"lang", &out.accept_language}};
  Kind version = kMissing;
  std::int64_t version_value = 0;
  Kind ts = kMissing;
  Kind head = kMissing;
  bool head_value = false;

  JsonReader in(text);
  if (in.AtEnd()) return bad("not JSON");
  if (!in.Eat('{')) return in.At('[') || in.At('"') ? bad("not a JSON object") : bad("not JSON");
  std::string key;
  if (!in.Eat('}')) {
    do {
      if (!in.String(key) || !in.Eat(':')) return bad("not JSON");
      in.Space();
      Field* field = nullptr;
      for (Field& f : fields) {
        if (f.key == key) field = &f;
      }
      bool ok = true;
      if (field != nullptr) {
        if (in.At('"')) {
          ok = in.String(*field->text);
          field->kind = kString;
        } else if (in.Literal("null")) {
          field->text->clear();
          field->kind = kNull;
        } else {
          ok = in.Skip();
          field->kind = kOther;
        }
      } else if (key == "v" || key == "ts") {
        std::int64_t value = 0;
        bool integer = false;
        Kind& kind = key == "v" ? version : ts;
        if (in.At('-') || (!in.At('"') && !in.At('{') && !in.At('[') && !in.At('t') &&
                           !in.At('f') && !in.At('n'))) {
          ok = in.Number(value, integer);
          kind = integer ? kInteger : kNumber;
        } else {
          ok = in.Skip();
          kind = kOther;
        }
        if (key == "v") {
          version_value = value;
        } else {
          out.at = value;
        }
      } else if (key == "head") {
        if (in.Literal("true")) {
          head = kBool;
          head_value = true;
        } else if (in.Literal("false")) {
          head = kBool;
          head_value = false;
        } else if (in.Literal("null")) {
          head = kNull;
        } else {
          ok = in.Skip();
          head = kOther;
        }
      } else {
        ok = in.Skip();
      }
      if (!ok) return bad("not JSON");
    } while (in.Eat(','));
    if (!in.Eat('}')) return bad("not JSON");
  }
  if (!in.AtEnd()) return bad("not JSON");

  if (version != kInteger) return bad("no version \"v\"");
  if (version_value != kClickMessageVersion) {
    return bad("version " + std::to_string(version_value) +
               " is not supported (this worker reads 1)");
  }
  auto field = [&](std::size_t i, bool required) {
    return fields[i].kind == kString || (!required && fields[i].kind <= kNull);
  };
  if (!field(0, true) || !IsHex32(out.id)) return bad("\"id\" is not 32 hex digits");
  if (ts != kInteger) return bad("\"ts\" is not an integer");
  if (out.at < core::StartOf(core::Date{core::kMinStoredDay}) ||
      out.at >= core::StartOf(core::Date{core::kMaxStoredDay})) {
    return bad("\"ts\" is out of range");
  }
  if (!field(1, true) || !core::LooksLikeCode(out.code)) {
    return bad("\"code\" is not a short code");
  }
  if (!field(2, true) || !IsHex32(out.visitor)) return bad("\"visitor\" is not 32 hex digits");
  static constexpr const char* kOptional[] = {"country", "city", "ua", "referrer", "lang"};
  for (std::size_t i = 3; i < std::size(fields); ++i) {
    if (!field(i, false)) return bad(std::string("\"") + kOptional[i - 3] + "\" is not a string");
    if (fields[i].kind != kString) fields[i].text->clear();
  }
  if (out.country.empty()) out.country = "ZZ";
  if (head != kMissing && head != kBool && head != kNull) return bad("\"head\" is not a boolean");
  out.head = head == kBool && head_value;
  return {};
}

}  // namespace kurz::analytics
