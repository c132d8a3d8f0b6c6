#pragma once

#include <string>
#include <string_view>

#include "core/link_options.hpp"

// The HTML pages a short link may answer instead of a redirect. Small, self-contained (no
// scripts, fonts, images or other requests) and escaped: every interpolated value goes through
// EscapeHtml.

namespace kurz::http {

// Text for HTML element content and double-quoted attribute values: & < > " ' escaped.
std::string EscapeHtml(std::string_view text);

// The OpenGraph and Twitter-card page for link-preview fetchers; url is the short URL (og:url).
std::string PreviewPage(const core::OpenGraph& og, std::string_view url);

// The password form of a protected link: POSTs the field `password` back to /<code>.
// wrong_try shows that the last password was not right.
std::string PasswordPage(std::string_view code, bool wrong_try);

}  // namespace kurz::http
