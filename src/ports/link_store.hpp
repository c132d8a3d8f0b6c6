#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/link.hpp"

namespace kurz::ports {

using core::Result;

// The source of truth for links and for the code counter. Every method is blocking and
// thread-safe; call it off the event loops. Failures of the backend are unavailable/internal.
class LinkStore {
 public:
  virtual ~LinkStore() = default;

  // Durably inserts a new link with every field of core::Link (committed when this returns OK).
  // conflict when the code is already used by any link, deleted and expired ones included, or
  // when the link is not custom, has no expiry, is not personal (core::Link::IsPersonal), and the
  // owner already has such a link, not deleted, with the same url and redirect type
  // (deduplication holds even for concurrent creates).
  virtual Result<void> Insert(const core::Link& link) = 0;

  // The link with this code whatever its state (deleted, expired, owner suspended: the caller
  // decides between 404 and 410), with owner_suspended, tags and every option filled. not_found
  // if it never existed.
  virtual Result<core::Link> Find(std::string_view code) = 0;

  // The owner's newest link that is not deleted, not custom, has no expiry, is not personal, and
  // has exactly this url and redirect type; nullopt when there is none.
  virtual Result<std::optional<core::Link>> FindDuplicate(std::int64_t owner_id,
                                                          std::string_view url,
                                                          core::RedirectType type) = 0;

  // The owner's links that are not deleted and match query (tags, text), in its order, starting
  // strictly after query.after when given; at most query.limit of them. Tags compare
  // case-insensitively; text is a case-insensitive substring of code, url or title (ASCII case
  // folding; LIKE wildcards in it are literal).
  virtual Result<std::vector<core::Link>> SearchByOwner(std::int64_t owner_id,
                                                        const core::LinkQuery& query) = 0;

  // SearchByOwner newest first with no filter.
  Result<std::vector<core::Link>> ListByOwner(std::int64_t owner_id,
                                              const std::optional<core::ListCursor>& after,
                                              int limit) {
    core::LinkQuery query;
    query.after = after;
    query.limit = limit;
    return SearchByOwner(owner_id, query);
  }

  // The owner's tags on links that are not deleted, with how many links carry each, most used
  // first (then by tag).
  virtual Result<std::vector<core::TagCount>> ListTags(std::int64_t owner_id) = 0;

  // Durably replaces every field a PATCH may change (url, redirect_type, expires_at, metadata,
  // title, tags, forward_query, password_hash, max_clicks, expired_url, rules, variants, og) of
  // the owner's link link.code, which must not be deleted; code, owner, created_at, is_custom,
  // click_count and clicks_used stay. not_found when the owner has no such live link; conflict
  // when the change makes it a duplicate of another deduplicable link of the owner (Insert's rule).
  virtual Result<void> Update(const core::Link& link) = 0;

  // Uses one click of code's budget: true when the link is live, has max_clicks and
  // clicks_used < max_clicks (then clicks_used grew by one, durably and atomically: concurrent
  // callers on any instance never use more than the budget); false when the budget is spent or
  // the link has none. not_found when no link has the code.
  virtual Result<bool> UseClick(std::string_view code) = 0;

  // Insert for many links in one transaction (one durable commit): each link succeeds or fails
  // on its own, with Insert's errors (conflict, invalid_argument); results[i] is links[i]'s.
  // An error of the whole call (unavailable, internal) means none was inserted.
  virtual Result<std::vector<Result<void>>> InsertMany(std::span<const core::Link> links) = 0;

  // Soft-deletes the owner's link (sets deleted_at). not_found when the owner has no such link
  // or it is already deleted.
  virtual Result<void> SoftDelete(std::string_view code, std::int64_t owner_id,
                                  core::Micros at) = 0;

  // Durably reserves `count` consecutive values of the code counter that no other caller, no
  // other instance and no later process will get; returns the first. Values start at 0.
  virtual Result<std::uint64_t> LeaseCodeBlock(std::uint64_t count) = 0;
};

}  // namespace kurz::ports
