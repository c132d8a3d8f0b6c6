#pragma once

// What a short link answers, and the one function that decides it. The L1 cache (hit path), the
// shared cache and the store (miss path) all hand a ResolvedLinkView to AnswerRedirect, so expiry,
// status and the edge-cache policy are decided here and nowhere else.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/link.hpp"
#include "core/link_options.hpp"
#include "core/time.hpp"

namespace kurz::core {

// Where a code stands. The shared cache's records and the L1 entries use this one enum.
enum class LinkState : std::uint8_t {
  kActive,    // redirects (until expires_at, when it has one)
  kGone,      // deleted, or its owner suspended: 410
  kNotFound,  // no link has this code: 404
};

// What the redirect decision needs of a link's options (core/link_options.hpp), with every URL
// already in its ASCII Location form. Immutable once built and shared by every copy of a value;
// links that have none carry a null pointer, so their redirect pays one null check at most.
struct LinkOptions {
  struct Rule {
    RuleConditions when;
    std::string location;
    friend bool operator==(const Rule&, const Rule&) = default;
  };
  struct WeightedLocation {
    std::string location;
    int weight = 1;
    friend bool operator==(const WeightedLocation&, const WeightedLocation&) = default;
  };

  bool forward_query = false;
  std::string password_hash;     // "" = no password (argon2id encoded string otherwise)
  bool budget = false;           // max_clicks: each human GET redirect uses one up
  std::string expired_location;  // "" = 410 once expired or exhausted; else a 302 here
  std::vector<Rule> rules;
  std::vector<WeightedLocation> variants;
  std::optional<OpenGraph> og;

  bool targets() const { return !rules.empty() || !variants.empty(); }
  // The answer depends on the visitor (Cache-Control: private, no-store).
  bool personal() const {
    return !password_hash.empty() || budget || !rules.empty() || !variants.empty();
  }
  friend bool operator==(const LinkOptions&, const LinkOptions&) = default;
};

// A borrowed ResolvedLink: what the L1 cache hands out under its lock (no copy of the Location).
struct ResolvedLinkView {
  LinkState state = LinkState::kNotFound;
  RedirectType status = RedirectType::k301;  // kActive
  std::string_view location;                 // kActive: the ASCII Location
  Micros expires_at = 0;                     // kActive: 0 = never; from it on the answer is 410
  std::int64_t owner_id = 0;                 // 0 when unknown (kNotFound)
  const LinkOptions* options = nullptr;      // null for plain links
};

// What a code resolves to, owned: kept in the shared cache, filled into the L1, returned by
// LinkService::Resolve. Expiry is not applied when it is built; AnswerRedirect applies it at the
// instant of each request, so a cached value stays right after its link expires.
struct ResolvedLink {
  LinkState state = LinkState::kNotFound;
  RedirectType status = RedirectType::k301;
  std::string location;
  Micros expires_at = 0;
  std::int64_t owner_id = 0;
  std::shared_ptr<const LinkOptions> options;

  ResolvedLinkView View() const {
    return {state, status, location, expires_at, owner_id, options.get()};
  }
  friend bool operator==(const ResolvedLink& a, const ResolvedLink& b) {
    const bool same_options =
        a.options == b.options ||
        (a.options != nullptr && b.options != nullptr && *a.options == *b.options);
    return a.state == b.state && a.status == b.status && a.location == b.location &&
           a.expires_at == b.expires_at && a.owner_id == b.owner_id && same_options;
  }
};

class VisitorFacts;  // core/targeting.hpp

// The facts of the request that the answer depends on. Views into the request; extend it with
// what later options need (the visitor's country, ...).
struct RedirectRequest {
  bool head = false;  // HEAD answers as GET (the server drops the body); it is a click too
  // The Accept header: 404/410 bodies are JSON when it names application/json, else HTML. Read
  // only for those, so a redirect does not pay for the search.
  std::string_view accept;
  // Read only for links with options (link previews).
  std::string_view user_agent;
  // POST /{code} with the link's password, checked: the form is not asked for again.
  bool password_verified = false;
  // What rules and variants test (country, device, language, a sticky visitor key); set by the
  // caller only for links that have rules or variants, so plain links never build it. Null: the
  // link's own url.
  VisitorFacts* visitor = nullptr;

  bool WantsJson() const { return accept.find("application/json") != std::string_view::npos; }
};

// What the caller still has to do for an answer (links with options only; plain links are
// always kSend).
enum class RedirectStep : std::uint8_t {
  kSend,          // send it as it is (appending the request's query when forward_query)
  kPasswordForm,  // the password form page: 200 HTML, or 401 password_required for JSON clients
  kPreview,       // the OpenGraph page for a link-preview fetcher: 200 HTML
  kUseBudget,     // use one click of the budget (on a worker) first: spent means "exhausted"
};

// Whether the User-Agent is a link-preview fetcher (Slackbot, facebookexternalhit, Twitterbot,
// LinkedInBot, WhatsApp, Discordbot, TelegramBot, ...). Case-insensitive substring match, no
// allocation.
bool IsPreviewFetcher(std::string_view user_agent) noexcept;

// How shared caches in front of kurz (CDNs, proxies) may keep an answer.
enum class EdgeCache : std::uint8_t {
  kPublicHour,  // 301: anyone may keep it for an hour (the seed's CDN TTL)
  kPrivate,     // 302/307: the browser may keep it, but must revalidate
  kNoStore,     // 404/410: nobody keeps it, so a code created a moment later is seen at once
  kPersonal,    // answers that depend on the visitor (password, budget, rules, variants)
};

// The Cache-Control header of a policy. Static text.
constexpr std::string_view CacheControlOf(EdgeCache edge) {
  switch (edge) {
    case EdgeCache::kPublicHour:
      return "public, max-age=3600";
    case EdgeCache::kPrivate:
      return "private, max-age=0";
    case EdgeCache::kPersonal:
      return "private, no-store";
    case EdgeCache::kNoStore:
      break;
  }
  return "no-store";
}

// The edge policy of a redirect status; a switch without default, so that adding a RedirectType
// makes the compiler ask for its policy here. 308 is permanent, as 301 is.
constexpr EdgeCache EdgeCacheOf(RedirectType status) {
  switch (status) {
    case RedirectType::k301:
    case RedirectType::k308:
      return EdgeCache::kPublicHour;
    case RedirectType::k302:
    case RedirectType::k307:
      break;
  }
  return EdgeCache::kPrivate;
}

// What to send. Views into the ResolvedLinkView (location) or into static text (the rest): use
// it while the view is valid.
struct RedirectAnswer {
  int status = 404;
  std::string_view location;      // redirects only; empty otherwise
  std::string_view content_type;  // 404/410 only; redirects have no body
  std::string_view body;          // 404/410 only
  EdgeCache edge = EdgeCache::kNoStore;
  bool record_click = false;  // one click event per answered redirect (HEAD included)
  RedirectStep step = RedirectStep::kSend;
  bool forward_query = false;  // kSend/kUseBudget: append the request's query to location
  // kUseBudget: what an exhausted budget answers instead (see AnswerExhausted); kPreview: the tags.
  const LinkOptions* options = nullptr;

  std::string_view CacheControl() const { return CacheControlOf(edge); }
};

// The 404/410 pages: HTML for people, JSON for clients that ask for it.
inline constexpr std::string_view kNotFoundHtml =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Link not "
    "found</title></head>\n<body><h1>Link not found</h1><p>There is no short link at this "
    "address. Check it for typing mistakes.</p></body></html>\n";
inline constexpr std::string_view kGoneHtml =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Link "
    "gone</title></head>\n<body><h1>Link gone</h1><p>This short link was deleted or has "
    "expired.</p></body></html>\n";
inline constexpr std::string_view kNotFoundJson =
    R"({"error":{"code":"not_found","message":"no link with this code"}})";
inline constexpr std::string_view kGoneJson =
    R"({"error":{"code":"gone","message":"this link was deleted or has expired"}})";

// The answer of a link that can no longer send people on (expired, or its click budget spent):
// a 302 to its expired_url when it has one, else 410.
inline RedirectAnswer AnswerOver(const LinkOptions* options,
                                 const RedirectRequest& request) noexcept {
  RedirectAnswer answer;
  if (options != nullptr && !options->expired_location.empty()) {
    answer.status = 302;
    answer.location = options->expired_location;
    answer.edge = EdgeCache::kNoStore;
    return answer;
  }
  const bool json = request.WantsJson();
  answer.status = 410;
  answer.content_type = json ? "application/json" : "text/html; charset=utf-8";
  answer.body = json ? kGoneJson : kGoneHtml;
  answer.edge = EdgeCache::kNoStore;
  return answer;
}

// The answer of an active, unexpired link with options (out of line: plain links never call it).
RedirectAnswer AnswerWithOptions(const ResolvedLinkView& link,
                                 const RedirectRequest& request) noexcept;

// The answer of `link` to `request` at instant `now`. Pure and allocation-free; inline because the
// hit path calls it under the cache shard's lock.
inline RedirectAnswer AnswerRedirect(const ResolvedLinkView& link, Micros now,
                                     const RedirectRequest& request) noexcept {
  RedirectAnswer answer;
  LinkState state = link.state;
  const bool expired =
      state == LinkState::kActive && link.expires_at != 0 && link.expires_at <= now;
  if (state == LinkState::kActive && !expired) [[likely]] {
    if (link.options != nullptr) return AnswerWithOptions(link, request);
    answer.status = static_cast<int>(link.status);
    answer.location = link.location;
    answer.edge = EdgeCacheOf(link.status);
    answer.record_click = true;
    return answer;
  }
  if (expired) return AnswerOver(link.options, request);
  const bool gone = state == LinkState::kGone;
  const bool json = request.WantsJson();
  answer.status = gone ? 410 : 404;
  answer.content_type = json ? "application/json" : "text/html; charset=utf-8";
  answer.body = gone ? (json ? kGoneJson : kGoneHtml) : (json ? kNotFoundJson : kNotFoundHtml);
  answer.edge = EdgeCache::kNoStore;
  return answer;
}

}  // namespace kurz::core
