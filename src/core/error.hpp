#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace kurz::core {

// Machine-readable failure kinds shared by every layer. The HTTP layer maps them to statuses in
// one table; nothing below it knows about HTTP.
enum class ErrorCode {
  kInvalidArgument,  // a malformed value from the caller
  kInvalidUrl,       // a URL that breaks one of the link rules
  kInvalidCode,      // a custom short code that breaks the code rules
  kNotFound,         // no such thing (or not visible to the caller)
  kGone,             // existed, but deleted or expired
  kConflict,         // unique key taken (code, email)
  kUnauthorized,     // no valid credentials
  kForbidden,        // valid credentials without the permission
  kUnavailable,      // a backend is down or overloaded; retry later
  kTimeout,          // a backend did not answer in time
  kInternal,         // a bug or an unexpected backend answer
};

std::string_view ToString(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string detail;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string detail) {
  return std::unexpected<Error>(Error{code, std::move(detail)});
}

}  // namespace kurz::core
