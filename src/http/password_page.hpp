#pragma once

// The page that asks for a link's password (GET /{code} of a password link, and the answer to a
// wrong POST), and the reader of what its form sends back.

#include <optional>
#include <string>
#include <string_view>

namespace kurz::http {

// The Content-Security-Policy to send with PasswordPage: nothing may load (the page has no
// scripts, fonts or images; its one <style> is inline), the form posts only to this origin, and no
// other site may frame it (a framed password form invites clickjacking).
inline constexpr std::string_view kPasswordPageCsp =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

// A plain HTML5 page (UTF-8, lang="en") with one form: POST to /<code> as
// application/x-www-form-urlencoded, field `password`, labelled, autofocused and marked
// autocomplete="current-password". wrong_try adds a visible "wrong password" message with
// role="alert" (read out by screen readers) tied to the field. code is percent-encoded in the
// form's action (followed by "?" and query, as the request had it, when not empty, so that
// forward_query still has it after the POST) and HTML-escaped (EscapeHtml, http/link_pages.hpp)
// wherever it shows, so any bytes are safe to pass.
std::string PasswordPage(std::string_view code, bool wrong_try, std::string_view query = {});

// The decoded value of field `name` in an application/x-www-form-urlencoded body
// ("a=1&password=x%20y"; '+' is a space; names are decoded too). The first occurrence wins; "" for
// a name without '='. nullopt when the field is absent or when a name or the value on the way to
// it holds a malformed percent escape ('%' not followed by two hex digits): the caller answers 400.
std::optional<std::string> FormField(std::string_view body, std::string_view name);

}  // namespace kurz::http
