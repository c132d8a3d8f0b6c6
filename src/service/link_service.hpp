#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/account.hpp"
#include "core/error.hpp"
#include "core/link.hpp"
#include "ports/clock.hpp"
#include "ports/link_store.hpp"
#include "service/code_allocator.hpp"
#include "service/redirect_cache.hpp"

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

// The seed's URL Service: creating, reading, listing and deleting links, and resolving codes for
// the redirect path on a cache miss. Blocking (it calls the store): run it off the event loops.
class LinkService {
 public:
  LinkService(ports::LinkStore& store, CodeAllocator& codes, RedirectCache& cache,
              const ports::Clock& clock, std::string self_host);

  core::Result<CreateLinkOutput> Create(const Principal& who, CreateLinkInput input);
  // not_found also for links of other users and deleted ones.
  core::Result<core::Link> Get(const Principal& who, std::string_view code);
  core::Result<LinkPage> List(const Principal& who, const std::optional<core::ListCursor>& after,
                              int limit);
  // Soft delete; from its return no redirect on this instance answers with the link.
  core::Result<void> Delete(const Principal& who, std::string_view code);

  // The redirect answer for a code, from the store, and remembered in the cache.
  core::Result<CacheValue> Resolve(std::string_view code);

 private:
  ports::LinkStore& store_;
  CodeAllocator& codes_;
  RedirectCache& cache_;
  const ports::Clock& clock_;
  std::string self_host_;
};

}  // namespace kurz::service
