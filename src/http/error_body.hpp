#pragma once

#include <string>
#include <string_view>

namespace kurz::http {

// The one writer of the JSON error body every answer uses (API.md "Conventions"):
// {"error":{"code":"<code>","message":"<message>"}}. Both strings are escaped as JSON; bytes that
// are not UTF-8 become U+FFFD, so any message (an echoed header, a path) makes valid JSON.
std::string ErrorBody(std::string_view code, std::string_view message);

// Appends `text` as a JSON string literal (quotes included), escaped as above.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace kurz::http
