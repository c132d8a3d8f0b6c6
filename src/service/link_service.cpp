#include "service/link_service.hpp"

#include "core/short_code.hpp"
#include "core/url.hpp"

namespace kurz::service {

namespace {
constexpr int kMaxGeneratedAttempts = 8;
}

namespace {

// A stored link as the shared cache keeps it: its own state, not its owner's (SuspendedOwners
// decides that when the entry is read). Expiry is kept, not applied: core::AnswerRedirect applies
// it at each request.
ports::CachedRedirect ToShared(const core::Link& link) {
  ports::CachedRedirect c;
  c.state = link.deleted_at ? core::LinkState::kGone : core::LinkState::kActive;
  c.status = link.redirect_type;
  if (c.state == core::LinkState::kActive) c.location = core::ToAsciiUrl(link.url);
  c.expires_at = link.expires_at.value_or(0);
  c.owner_id = link.owner_id;
  return c;
}

// The shared entry as this instance answers it: gone while its owner is suspended.
core::ResolvedLink FromShared(ports::CachedRedirect c, const SuspendedOwners* suspended) {
  if (c.state == core::LinkState::kActive && suspended != nullptr &&
      suspended->Contains(c.owner_id)) {
    c.state = core::LinkState::kGone;
    c.location.clear();
  }
  return c;
}

}  // namespace

LinkService::LinkService(ports::LinkStore& store, CodeAllocator& codes, RedirectCache& cache,
                         const ports::Clock& clock, std::string self_host, SharedTier shared)
    : store_(store),
      codes_(codes),
      cache_(cache),
      clock_(clock),
      self_host_(std::move(self_host)),
      shared_(shared) {}

core::ResolvedLink LinkService::ValueOf(const core::Link& link) {
  core::ResolvedLink value = ToShared(link);
  if (value.state == core::LinkState::kActive && link.owner_suspended) {
    value.state = core::LinkState::kGone;
    value.location.clear();
  }
  return value;
}

core::Result<CreateLinkOutput> LinkService::Create(const Principal& who, CreateLinkInput input) {
  auto url = core::ValidateUrl(input.url, self_host_);
  if (!url) return std::unexpected(url.error());
  const core::Micros now = clock_.Now();
  if (input.expires_at && *input.expires_at <= now) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "expires_at must be in the future");
  }
  if (input.custom_code) {
    if (auto valid = core::ValidateCustomCode(*input.custom_code); !valid) {
      return std::unexpected(valid.error());
    }
  }

  if (!input.custom_code && !input.expires_at) {
    auto existing = store_.FindDuplicate(who.user_id, url->url, input.redirect_type);
    if (!existing) return std::unexpected(existing.error());
    if (auto& found = *existing) return CreateLinkOutput{std::move(*found), false};
  }

  core::Link link;
  link.url = std::move(url->url);
  link.owner_id = who.user_id;
  link.api_key_id = who.key_id;
  link.created_at = now;
  link.expires_at = input.expires_at;
  link.redirect_type = input.redirect_type;
  link.metadata_json = std::move(input.metadata_json);

  if (input.custom_code) {
    link.code = std::move(*input.custom_code);
    link.is_custom = true;
    if (auto inserted = store_.Insert(link); !inserted) {
      if (inserted.error().code == core::ErrorCode::kConflict) {
        return core::Fail(core::ErrorCode::kConflict,
                          "custom_code '" + link.code + "' is already taken");
      }
      return std::unexpected(inserted.error());
    }
  } else {
    // A conflict is either a concurrent identical create (the store keeps one active
    // deduplicable link per owner, url and type: answer with it) or a custom code someone chose
    // to look like a generated one (take the next code).
    for (int attempt = 0;; ++attempt) {
      auto code = codes_.Next();
      if (!code) return std::unexpected(code.error());
      link.code = std::move(*code);
      auto inserted = store_.Insert(link);
      if (inserted) break;
      if (inserted.error().code != core::ErrorCode::kConflict ||
          attempt + 1 == kMaxGeneratedAttempts) {
        return std::unexpected(inserted.error());
      }
      if (!link.expires_at) {
        auto existing = store_.FindDuplicate(who.user_id, link.url, link.redirect_type);
        if (!existing) return std::unexpected(existing.error());
        if (auto& found = *existing) return CreateLinkOutput{std::move(*found), false};
      }
    }
  }
  // A negative entry for this code (someone tried it before it existed) must not outlive this,
  // here or on any other instance.
  cache_.Invalidate(link.code);
  if (shared_.cache != nullptr) {
    if (!shared_.cache->Put(link.code, ToShared(link), ports::kSharedCacheTtl)) CountSharedError();
  }
  if (shared_.bus != nullptr && !shared_.bus->Publish(link.code)) CountSharedError();
  return CreateLinkOutput{std::move(link), true};
}

core::Result<core::Link> LinkService::Get(const Principal& who, std::string_view code) {
  auto link = store_.Find(code);
  if (!link) return std::unexpected(link.error());
  if (link->owner_id != who.user_id || link->deleted_at) {
    return core::Fail(core::ErrorCode::kNotFound, "no link with this code");
  }
  return link;
}

core::Result<LinkPage> LinkService::List(const Principal& who,
                                         const std::optional<core::ListCursor>& after, int limit) {
  // One extra row tells whether another page follows.
  auto rows = store_.ListByOwner(who.user_id, after, limit + 1);
  if (!rows) return std::unexpected(rows.error());
  LinkPage page;
  page.items = std::move(*rows);
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.resize(static_cast<std::size_t>(limit));
    const core::Link& last = page.items.back();
    page.next = core::ListCursor{last.created_at, last.code};
  }
  return page;
}

core::Result<void> LinkService::Delete(const Principal& who, std::string_view code) {
  auto deleted = store_.SoftDelete(code, who.user_id, clock_.Now());
  if (!deleted) {
    if (deleted.error().code == core::ErrorCode::kNotFound) {
      return core::Fail(core::ErrorCode::kNotFound, "no link with this code");
    }
    return deleted;
  }
  cache_.Invalidate(code);
  if (shared_.cache != nullptr) {
    // A tombstone rather than a removal: a concurrent miss that read the link before the delete
    // fills only an empty slot, so it cannot bring the link back.
    ports::CachedRedirect tombstone;
    tombstone.state = core::LinkState::kGone;
    tombstone.owner_id = who.user_id;
    if (!shared_.cache->Put(code, tombstone, ports::kSharedCacheTtl)) CountSharedError();
  }
  if (shared_.bus != nullptr && !shared_.bus->Publish(code)) CountSharedError();
  return {};
}

core::Result<core::ResolvedLink> LinkService::Resolve(std::string_view code) {
  const std::uint64_t generation = cache_.Generation(code);
  const core::Micros now = clock_.Now();  // starts a negative entry's TTL
  if (shared_.cache != nullptr) {
    auto shared = shared_.cache->Get(code);
    if (!shared) {
      CountSharedError();  // down or unreadable: the store answers
    } else if (auto& hit = *shared) {
      core::ResolvedLink value = FromShared(std::move(*hit), shared_.suspended);
      cache_.Fill(code, value, generation, now);
      return value;
    }
  }
  auto link = store_.Find(code);
  core::ResolvedLink value;
  if (!link) {
    if (link.error().code != core::ErrorCode::kNotFound) return std::unexpected(link.error());
    value.state = core::LinkState::kNotFound;  // not shared: the L1 keeps it for a short TTL
  } else {
    value = ValueOf(*link);
    if (shared_.cache != nullptr &&
        !shared_.cache->PutIfAbsent(code, ToShared(*link), ports::kSharedCacheTtl)) {
      CountSharedError();
    }
  }
  cache_.Fill(code, value, generation, now);
  return value;
}

}  // namespace kurz::service
