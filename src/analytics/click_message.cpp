#include "analytics/click_message.hpp"

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

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
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
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

core::Result<void> DecodeClickMessage(std::string_view text, ClickMessage& out) {
  using nlohmann::json;
  auto bad = [](std::string why) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "click message: " + std::move(why));
  };
  const json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not JSON");
  if (!doc.is_object()) return bad("not a JSON object");
  const auto version = doc.find("v");
  if (version == doc.end() || !version->is_number_integer()) return bad("no version \"v\"");
  if (version->get<std::int64_t>() != kClickMessageVersion) {
    return bad("version " + version->dump() + " is not supported (this worker reads 1)");
  }
  auto field = [&](const char* key, std::string& into, bool required) -> bool {
    const auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) {
      into.clear();
      return !required;
    }
    if (!it->is_string()) return false;
    into = it->get_ref<const std::string&>();
    return true;
  };
  if (!field("id", out.id, true) || !IsHex32(out.id)) return bad("\"id\" is not 32 hex digits");
  const auto ts = doc.find("ts");
  if (ts == doc.end() || !ts->is_number_integer()) return bad("\"ts\" is not an integer");
  out.at = ts->get<std::int64_t>();
  if (out.at < core::StartOf(core::Date{core::kMinStoredDay}) ||
      out.at >= core::StartOf(core::Date{core::kMaxStoredDay})) {
    return bad("\"ts\" is out of range");
  }
  if (!field("code", out.code, true) || !core::LooksLikeCode(out.code)) {
    return bad("\"code\" is not a short code");
  }
  if (!field("visitor", out.visitor, true) || !IsHex32(out.visitor)) {
    return bad("\"visitor\" is not 32 hex digits");
  }
  if (!field("country", out.country, false)) return bad("\"country\" is not a string");
  if (out.country.empty()) out.country = "ZZ";
  if (!field("city", out.city, false)) return bad("\"city\" is not a string");
  if (!field("ua", out.user_agent, false)) return bad("\"ua\" is not a string");
  if (!field("referrer", out.referrer, false)) return bad("\"referrer\" is not a string");
  if (!field("lang", out.accept_language, false)) return bad("\"lang\" is not a string");
  const auto head = doc.find("head");
  if (head != doc.end() && !head->is_boolean() && !head->is_null()) {
    return bad("\"head\" is not a boolean");
  }
  out.head = head != doc.end() && head->is_boolean() && head->get<bool>();
  return {};
}

}  // namespace kurz::analytics
