#include "core/redirect.hpp"

#include <algorithm>
#include <array>

#include "core/targeting.hpp"

namespace kurz::core {

namespace {

// Link-preview fetchers (lowercase; matched case-insensitively as substrings). They fetch a link
// to show a card of it in a chat or a feed, not to follow it.
constexpr std::array<std::string_view, 18> kPreviewFetchers = {
    "slackbot",        "slack-imgproxy",   "facebookexternalhit",
    "facebot",         "twitterbot",       "linkedinbot",
    "whatsapp",        "discordbot",       "telegrambot",
    "skypeuripreview", "mastodon",         "cardyb",
    "vkshare",         "snap url preview", "viber",
    "redditbot",       "pinterestbot",     "embedly",
};

bool ContainsNoCase(std::string_view haystack, std::string_view lower_needle) {
  const auto found = std::ranges::search(haystack, lower_needle, [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
  });
  return !found.empty();
}

}  // namespace

bool IsPreviewFetcher(std::string_view user_agent) noexcept {
  return std::ranges::any_of(kPreviewFetchers,
                             [&](std::string_view f) { return ContainsNoCase(user_agent, f); });
}

RedirectAnswer AnswerWithOptions(const ResolvedLinkView& link,
                                 const RedirectRequest& request) noexcept {
  const LinkOptions& o = *link.options;
  RedirectAnswer answer;
  answer.options = link.options;
  if (!o.password_hash.empty() && !request.password_verified) {
    // No click until the redirect is answered; the form is the same for everyone.
    answer.step = RedirectStep::kPasswordForm;
    const bool json = request.WantsJson();
    answer.status = json ? 401 : 200;
    answer.content_type = json ? "application/json" : "text/html; charset=utf-8";
    answer.edge = EdgeCache::kPersonal;
    return answer;
  }
  if (o.og && IsPreviewFetcher(request.user_agent)) {
    answer.step = RedirectStep::kPreview;
    answer.status = 200;
    answer.content_type = "text/html; charset=utf-8";
    answer.edge = EdgeCache::kPersonal;  // people asking for the same URL get the redirect
    answer.record_click = true;          // counted, as a bot's click
    return answer;
  }
  answer.status = static_cast<int>(link.status);
  answer.location = link.location;
  if (request.visitor != nullptr && o.targets()) {
    answer.location = ChooseLocation(o, link.location, *request.visitor).location;
  }
  answer.edge = o.personal() ? EdgeCache::kPersonal : EdgeCacheOf(link.status);
  answer.record_click = true;
  answer.forward_query = o.forward_query;
  if (request.password_verified) answer.edge = EdgeCache::kPersonal;
  if (o.budget) answer.step = RedirectStep::kUseBudget;
  return answer;
}

}  // namespace kurz::core
