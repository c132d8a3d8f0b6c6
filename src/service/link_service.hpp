#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/account.hpp"
#include "core/error.hpp"
#include "core/link.hpp"
#include "core/redirect.hpp"
#include "ports/clock.hpp"
#include "ports/invalidation_bus.hpp"
#include "ports/link_store.hpp"
#include "ports/shared_cache.hpp"
#include "service/code_allocator.hpp"
#include "service/redirect_cache.hpp"
#include "service/suspended_owners.hpp"

namespace kurz::service {

// Who is calling: the owner of the API key that authenticated the request.
struct Principal {
  std::int64_t user_id = 0;
  std::int64_t key_id = 0;
  core::Permissions permissions = 0;
  bool Has(core::Permission p) const { return (permissions & p) != 0; }
};

struct CreateLinkInput {
  std::string url;
  std::optional<std::string> custom_code;
  std::optional<core::Micros> expires_at;
  core::RedirectType redirect_type = core::RedirectType::k301;
  std::string metadata_json = "{}";
};

struct CreateLinkOutput {
  core::Link link;
  bool created = true;  // false: an identical link of the owner was returned (deduplication)
};

struct LinkPage {
  std::vector<core::Link> items;
  std::optional<core::ListCursor> next;
};

// What instances share in cluster mode (all null in the embedded mode): the L2 cache in front of
// the store, the bus that tells every instance to drop a code from its L1, and the suspended
// users (kept by AccountService and the bus).
struct SharedTier {
  ports::SharedCache* cache = nullptr;
  ports::InvalidationBus* bus = nullptr;
  SuspendedOwners* suspended = nullptr;  // required when cache is set
};

// The bus message that means "forget every cached code and reload the suspended users" (a code
// never contains '*').
inline constexpr std::string_view kFlushAll = "*";

// The seed's URL Service: creating, reading, listing and deleting links, and resolving codes for
// the redirect path on a cache miss. Blocking (it calls the store): run it off the event loops.
//
// With a shared tier: a miss reads the L2 cache before the store and fills it from the store
// (only where it holds nothing, so a late fill never overwrites a delete's tombstone); a create
// writes the link through to L2; a delete writes a `gone` tombstone; both publish the code so
// every instance drops it from its L1. The L2 is never the source of truth: when it is down,
// everything goes on with the L1 and the store.
class LinkService {
 public:
  LinkService(ports::LinkStore& store, CodeAllocator& codes, RedirectCache& cache,
              const ports::Clock& clock, std::string self_host, SharedTier shared = {});

  core::Result<CreateLinkOutput> Create(const Principal& who, CreateLinkInput input);
  // not_found also for links of other users and deleted ones.
  core::Result<core::Link> Get(const Principal& who, std::string_view code);
  core::Result<LinkPage> List(const Principal& who, const std::optional<core::ListCursor>& after,
                              int limit);
  // Soft delete; from its return no redirect on this instance answers with the link.
  core::Result<void> Delete(const Principal& who, std::string_view code);

  // What code resolves to, from the shared cache or the store, and remembered in the L1 cache:
  // kGone for a deleted link or a suspended owner's, kNotFound for no link. Expiry is left to
  // core::AnswerRedirect (the value carries expires_at). Errors: the store's (not not_found).
  core::Result<core::ResolvedLink> Resolve(std::string_view code);

  // Calls to the shared tier that failed (it was down or slow); the service went on without it.
  std::uint64_t shared_errors() const { return shared_errors_.load(std::memory_order_relaxed); }

 private:
  // What a stored link resolves to on this instance (its owner's suspension included).
  static core::ResolvedLink ValueOf(const core::Link& link);
  void CountSharedError() { shared_errors_.fetch_add(1, std::memory_order_relaxed); }

  ports::LinkStore& store_;
  CodeAllocator& codes_;
  RedirectCache& cache_;
  const ports::Clock& clock_;
  std::string self_host_;
  SharedTier shared_;
  std::atomic<std::uint64_t> shared_errors_{0};
};

}  // namespace kurz::service
