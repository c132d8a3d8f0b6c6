#pragma once

#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "core/redirect.hpp"
#include "core/time.hpp"

namespace kurz::ports {

using core::Result;

// What the redirect path keeps of a code in the shared (L2) cache: enough to answer without the
// database, as core::AnswerRedirect reads it. Negative answers are cached too, with a short TTL
// chosen by the caller. An entry holds the link's own state (kGone only when deleted); whether
// its owner is suspended is decided when it is read. The options block is stored with it: a Get
// returns what was Put, options included.
using CachedRedirect = core::ResolvedLink;

// How long a link stays in the shared cache after it was last written (cache-aside refills it).
constexpr core::Micros kSharedCacheTtl = 24LL * 3600 * core::kMicrosPerSecond;

// The cache shared by every instance (Redis in cluster mode), in front of the LinkStore. Blocking
// and thread-safe; call it off the event loops. Every call answers within the adapter's timeout:
// unavailable means the cache could not be reached in time, and callers then go on without it
// (L1 and the database), since the cache is never the source of truth.
class SharedCache {
 public:
  virtual ~SharedCache() = default;

  // The entry stored for code; nullopt on a miss (never stored, removed or past its TTL).
  // internal when the stored entry cannot be read (callers treat it as a miss).
  virtual Result<std::optional<CachedRedirect>> Get(std::string_view code) = 0;

  // Stores (or replaces) code's entry for ttl (> 0; usually kSharedCacheTtl).
  virtual Result<void> Put(std::string_view code, const CachedRedirect& value,
                           core::Micros ttl) = 0;

  // Stores code's entry for ttl only when it has none; true when stored, false when an entry was
  // there (left as it was). Cache-aside fills use it, so a fill that read the store before a
  // concurrent delete cannot overwrite the delete's tombstone.
  virtual Result<bool> PutIfAbsent(std::string_view code, const CachedRedirect& value,
                                   core::Micros ttl) = 0;

  // Forgets code's entry; OK also when there was none.
  virtual Result<void> Remove(std::string_view code) = 0;
};

}  // namespace kurz::ports
