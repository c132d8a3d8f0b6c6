#pragma once

#include <cstdint>
#include <optional>
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

  // Durably inserts a new link (committed when this returns OK). conflict when the code is
  // already used by any link, deleted and expired ones included, or when the link is not custom,
  // has no expiry, and the owner already has such a link, not deleted, with the same url and
  // redirect type (deduplication holds even for concurrent creates).
  virtual Result<void> Insert(const core::Link& link) = 0;

  // The link with this code whatever its state (deleted, expired, owner suspended: the caller
  // decides between 404 and 410), with owner_suspended filled. not_found if it never existed.
  virtual Result<core::Link> Find(std::string_view code) = 0;

  // The owner's newest link that is not deleted, not custom, has no expiry, and has exactly this
  // url and redirect type; nullopt when there is none.
  virtual Result<std::optional<core::Link>> FindDuplicate(std::int64_t owner_id,
                                                          std::string_view url,
                                                          core::RedirectType type) = 0;

  // The owner's links that are not deleted, newest first (created_at desc, code desc), starting
  // strictly after `after` when given; at most `limit` of them.
  virtual Result<std::vector<core::Link>> ListByOwner(std::int64_t owner_id,
                                                      const std::optional<core::ListCursor>& after,
                                                      int limit) = 0;

  // Soft-deletes the owner's link (sets deleted_at). not_found when the owner has no such link
  // or it is already deleted.
  virtual Result<void> SoftDelete(std::string_view code, std::int64_t owner_id,
                                  core::Micros at) = 0;

  // Durably reserves `count` consecutive values of the code counter that no other caller, no
  // other instance and no later process will get; returns the first. Values start at 0.
  virtual Result<std::uint64_t> LeaseCodeBlock(std::uint64_t count) = 0;
};

}  // namespace kurz::ports
