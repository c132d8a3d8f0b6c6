#include "core/base62.hpp"

#include <algorithm>
#include <limits>

namespace kurz::core {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::uint64_t kBase = 62;

constexpr int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

static_assert(sizeof(kAlphabet) == kBase + 1);
static_assert(DigitValue('z') == 61 && DigitValue('-') == -1);

}  // namespace

std::string EncodeBase62(std::uint64_t value, std::size_t min_length) {
  // 2^64 needs 11 base62 digits.
  char buf[11];
  std::size_t n = 0;
  do {
    buf[n++] = kAlphabet[value % kBase];
    value /= kBase;
  } while (value > 0);
  std::string out;
  out.reserve(std::max(n, min_length));
  if (min_length > n) out.append(min_length - n, '0');
  while (n > 0) out.push_back(buf[--n]);
  return out;
}

void EncodeBase62Fixed7(std::uint64_t value, char out[7]) {
  for (std::size_t i = kGeneratedCodeLength; i > 0; --i) {
    out[i - 1] = kAlphabet[value % kBase];
    value /= kBase;
  }
}

std::optional<std::uint64_t> DecodeBase62(std::string_view s) {
  if (s.empty()) return std::nullopt;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (const char c : s) {
    const int digit = DigitValue(c);
    if (digit < 0) return std::nullopt;
    const auto d = static_cast<std::uint64_t>(digit);
    if (value > (kMax - d) / kBase) return std::nullopt;
    value = value * kBase + d;
  }
  return value;
}

}  // namespace kurz::core
