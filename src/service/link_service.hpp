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
#include "ports/edge_purger.hpp"
#include "ports/invalidation_bus.hpp"
#include "ports/link_store.hpp"
#include "ports/password_hasher.hpp"
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

// The options of API.md "Link options beyond the seed" as a request gives them (the password in
// clear: LinkService hashes it).
struct LinkOptionsInput {
  std::string title;
  std::vector<std::string> tags;
  bool forward_query = false;
  std::optional<std::string> password;
  std::optional<std::int64_t> max_clicks;
  std::optional<std::string> expired_url;
  std::vector<core::TargetRule> rules;
  std::vector<core::Variant> variants;
  std::optional<core::OpenGraph> og;
};

struct CreateLinkInput {
  std::string url;
  std::optional<std::string> custom_code;
  std::optional<core::Micros> expires_at;
  core::RedirectType redirect_type = core::RedirectType::k301;
  std::string metadata_json = "{}";
  LinkOptionsInput options;
};

// A PATCH: each field that is set replaces the link's; for the nullable ones an inner nullopt
// removes it.
struct LinkPatch {
  std::optional<std::string> url;
  std::optional<core::RedirectType> redirect_type;
  std::optional<std::optional<core::Micros>> expires_at;
  std::optional<std::string> metadata_json;
  std::optional<std::string> title;
  std::optional<std::vector<std::string>> tags;
  std::optional<bool> forward_query;
  std::optional<std::optional<std::string>> password;
  std::optional<std::optional<std::int64_t>> max_clicks;
  std::optional<std::optional<std::string>> expired_url;
  std::optional<std::vector<core::TargetRule>> rules;  // an empty list removes them
  std::optional<std::vector<core::Variant>> variants;  // an empty list removes them
  std::optional<std::optional<core::OpenGraph>> og;
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

  // Link passwords need a hasher (argon2id): without one, a create or PATCH with a password is
  // refused (unavailable). Set before serving.
  void SetPasswordHasher(ports::PasswordHasher* hasher) { hasher_ = hasher; }
  // Told of every change and delete, so the CDN edge forgets the code (null: no edge).
  void SetEdgePurger(ports::EdgePurger* purger) { purger_ = purger; }

  core::Result<CreateLinkOutput> Create(const Principal& who, CreateLinkInput input);
  // not_found also for links of other users and deleted ones.
  core::Result<core::Link> Get(const Principal& who, std::string_view code);
  core::Result<LinkPage> List(const Principal& who, const std::optional<core::ListCursor>& after,
                              int limit);
  // The owner's links matching query (tags, text, sort), a page of at most query.limit.
  core::Result<LinkPage> Search(const Principal& who, core::LinkQuery query);
  core::Result<std::vector<core::TagCount>> Tags(const Principal& who);
  // Applies patch to the caller's live link; from its return every redirect on this instance,
  // and (through the shared tier and the edge purger) on every other, answers the new state.
  // not_found for other users' and deleted links; invalid_argument naming the field.
  core::Result<core::Link> Update(const Principal& who, std::string_view code, LinkPatch patch);
  // Creates each input on its own (results[i] is inputs[i]'s), storing the valid ones with one
  // durable commit. An error of the whole call means none was created.
  core::Result<std::vector<core::Result<CreateLinkOutput>>> CreateMany(
      const Principal& who, std::vector<CreateLinkInput> inputs);
  // Uses one click of code's budget (max_clicks): true while some remained. Exact across
  // instances (the store counts). Errors: the store's; unavailable means nobody can tell, and
  // the caller must not redirect (a budget is never overrun).
  core::Result<bool> UseClick(std::string_view code);
  // Whether code's budget has a click left, using none (for HEAD and bots).
  core::Result<bool> HasClicksLeft(std::string_view code);
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
  // Checks and converts the options of a create into the link (hashing the password).
  core::Result<void> ApplyOptions(LinkOptionsInput input, core::Link& link) const;
  // The argon2id hash of a link password of 8 to 128 characters (invalid_argument otherwise;
  // unavailable without a hasher).
  core::Result<std::string> HashPassword(std::string_view password) const;
  // Checks everything that create and PATCH both require of a link's final state.
  core::Result<void> CheckLink(const core::Link& link) const;
  // A validated, not yet stored link of who (code left to the caller).
  core::Result<core::Link> Build(const Principal& who, CreateLinkInput& input,
                                 core::Micros now) const;
  // After a create: no negative entry for the code may outlive it, here or elsewhere.
  void Created(const core::Link& link);
  // After a change or delete of code: forget it here, tell the shared tier and the edge.
  void Changed(std::string_view code, const ports::CachedRedirect& shared_value);
  void CountSharedError() { shared_errors_.fetch_add(1, std::memory_order_relaxed); }

  ports::LinkStore& store_;
  CodeAllocator& codes_;
  RedirectCache& cache_;
  const ports::Clock& clock_;
  std::string self_host_;
  SharedTier shared_;
  ports::PasswordHasher* hasher_ = nullptr;
  ports::EdgePurger* purger_ = nullptr;
  std::atomic<std::uint64_t> shared_errors_{0};
};

}  // namespace kurz::service
