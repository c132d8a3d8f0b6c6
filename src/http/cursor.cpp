#include "http/cursor.hpp"

#include <charconv>
#include <cstdint>

#include "core/short_code.hpp"

namespace kurz::http {

namespace {
constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}  // namespace

std::string EncodeCursor(const core::ListCursor& c, core::LinkSort sort) {
  std::string raw;
  if (sort == core::LinkSort::kOldest) raw = "o";
  if (sort == core::LinkSort::kMostClicks) raw = "c" + std::to_string(c.click_count) + ".";
  raw += std::to_string(c.created_at) + "." + c.code;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char ch : raw) {
    acc = (acc << 8) | ch;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  return out;
}

std::optional<core::ListCursor> DecodeCursor(std::string_view text, core::LinkSort sort) {
  if (text.empty() || text.size() > 128) return std::nullopt;
  std::string raw;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    const auto pos = kB64.find(ch);
    if (pos == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      raw.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // A cursor of one sort is no position in another.
  core::ListCursor cursor;
  if (sort == core::LinkSort::kOldest) {
    if (!raw.starts_with('o')) return std::nullopt;
    raw.erase(0, 1);
  } else if (sort == core::LinkSort::kMostClicks) {
    const auto first = raw.find('.');
    if (!raw.starts_with('c') || first == std::string::npos || first == 1) return std::nullopt;
    const auto [p, e] = std::from_chars(raw.data() + 1, raw.data() + first, cursor.click_count);
    if (e != std::errc() || p != raw.data() + first || cursor.click_count < 0) return std::nullopt;
    raw.erase(0, first + 1);
  }
  const auto dot = raw.find('.');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + dot, cursor.created_at);
  if (ec != std::errc() || ptr != raw.data() + dot || cursor.created_at < 0) return std::nullopt;
  cursor.code = raw.substr(dot + 1);
  if (!core::LooksLikeCode(cursor.code)) return std::nullopt;
  return cursor;
}

}  // namespace kurz::http
