#pragma once

#include <string>
#include <string_view>

#include "core/link_options.hpp"

// The HTML pages a short link may answer instead of a redirect. Small, self-contained (no
// scripts, fonts, images or other requests) and escaped: every interpolated value goes through
// EscapeHtml. (The password form is in http/password_page.hpp.)

namespace kurz::http {

// Text for HTML element content and double-quoted attribute values: & < > " ' escaped.
std::string EscapeHtml(std::string_view text);

// The OpenGraph and Twitter-card page for link-preview fetchers; url is the short URL (og:url).
std::string PreviewPage(const core::OpenGraph& og, std::string_view url);

}  // namespace kurz::http
