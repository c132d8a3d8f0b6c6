#include "core/short_code.hpp"

#include <array>
#include <string>

namespace kurz::core {
namespace {

// Paths the service itself answers at the top level (or will: v4, rest and api are other
// shorteners' APIs), so a short code must never shadow them; bulk and export are the literal
// routes under /v1/urls/, where such a code could not be read, changed or deleted.
constexpr std::array<std::string_view, 14> kReservedWords = {
    "v1", "v4",     "api",   "rest",        "healthz",    "readyz", "metrics",
    "ui", "static", "admin", "favicon.ico", "robots.txt", "bulk",   "export",
};

constexpr bool IsCodeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool AllCodeChars(std::string_view s) {
  for (const char c : s) {
    if (!IsCodeChar(c)) return false;
  }
  return true;
}

}  // namespace

bool LooksLikeCode(std::string_view s) {
  return !s.empty() && s.size() <= kMaxCodeLength && AllCodeChars(s);
}

bool IsReservedWord(std::string_view code) {
  for (const std::string_view word : kReservedWords) {
    if (EqualsIgnoreCase(code, word)) return true;
  }
  return false;
}

Result<void> ValidateCustomCode(std::string_view code) {
  if (code.size() < kMinCustomCodeLength || code.size() > kMaxCodeLength) {
    return Fail(ErrorCode::kInvalidCode, "custom_code must be 3 to 32 characters");
  }
  if (!AllCodeChars(code)) {
    return Fail(ErrorCode::kInvalidCode, "custom_code may contain only A-Z, a-z, 0-9, '_' and '-'");
  }
  if (IsReservedWord(code)) {
    return Fail(ErrorCode::kInvalidCode, "custom_code '" + std::string(code) + "' is reserved");
  }
  return {};
}

}  // namespace kurz::core
