#include "service/link_service.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include "core/short_code.hpp"
#include "core/targeting.hpp"
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
  if (c.state == core::LinkState::kActive && link.HasRedirectOptions()) {
    auto options = std::make_shared<core::LinkOptions>();
    options->forward_query = link.forward_query;
    options->password_hash = link.password_hash.value_or("");
    options->budget = link.max_clicks.has_value();
    if (link.expired_url) options->expired_location = core::ToAsciiUrl(*link.expired_url);
    for (const core::TargetRule& rule : link.rules) {
      options->rules.push_back({rule.when, core::ToAsciiUrl(rule.url)});
    }
    for (const core::Variant& variant : link.variants) {
      options->variants.push_back({core::ToAsciiUrl(variant.url), variant.weight});
    }
    options->og = link.og;
    c.options = std::move(options);
  }
  return c;
}

// Code points of valid UTF-8 (continuation bytes are not counted).
std::size_t CodePoints(std::string_view text) {
  return static_cast<std::size_t>(std::ranges::count_if(
      text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool HasControl(std::string_view text) {
  return std::ranges::any_of(text, [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

std::string Folded(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The tags in their order, each kept once (its first spelling) when compared case-insensitively.
std::vector<std::string> UniqueTags(std::vector<std::string> tags) {
  std::vector<std::string> out;
  for (std::string& tag : tags) {
    const std::string key = Folded(tag);
    if (std::ranges::none_of(out, [&](const std::string& t) { return Folded(t) == key; })) {
      out.push_back(std::move(tag));
    }
  }
  return out;
}

core::Error Invalid(std::string message) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
}

// The shared entry as this instance answers it: gone while its owner is suspended.
core::ResolvedLink FromShared(ports::CachedRedirect c, const SuspendedOwners* suspended) {
  if (c.state == core::LinkState::kActive && suspended != nullptr &&
      suspended->Contains(c.owner_id)) {
    c.state = core::LinkState::kGone;
    c.location.clear();
    c.options.reset();
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
    value.options.reset();
  }
  return value;
}

core::Result<void> LinkService::ApplyOptions(LinkOptionsInput input, core::Link& link) const {
  link.title = std::move(input.title);
  link.forward_query = input.forward_query;
  link.max_clicks = input.max_clicks;
  link.expired_url = std::move(input.expired_url);
  link.rules = std::move(input.rules);
  for (core::TargetRule& rule : link.rules) core::NormalizeRuleConditions(rule.when);
  link.variants = std::move(input.variants);
  link.og = std::move(input.og);
  link.tags = UniqueTags(std::move(input.tags));
  link.password_hash.reset();
  if (input.password) {
    auto hash = HashPassword(*input.password);
    if (!hash) return std::unexpected(hash.error());
    link.password_hash = std::move(*hash);
  }
  return {};
}

core::Result<std::string> LinkService::HashPassword(std::string_view password) const {
  const std::size_t n = CodePoints(password);
  if (n < core::kMinPasswordLength || n > core::kMaxPasswordLength) {
    return std::unexpected(Invalid("password must be 8 to 128 characters"));
  }
  if (hasher_ == nullptr) {
    return core::Fail(core::ErrorCode::kUnavailable, "this server cannot hash passwords");
  }
  return hasher_->Hash(password);
}

core::Result<void> LinkService::CheckLink(const core::Link& link) const {
  if (CodePoints(link.title) > core::kMaxTitleLength || HasControl(link.title)) {
    return std::unexpected(
        Invalid("title must be at most 200 characters, without control characters"));
  }
  if (link.tags.size() > core::kMaxTags) return std::unexpected(Invalid("tags: at most 20"));
  for (const std::string& tag : link.tags) {
    const std::size_t n = CodePoints(tag);
    if (n == 0 || n > core::kMaxTagLength || HasControl(tag)) {
      return std::unexpected(
          Invalid("tags: each must be 1 to 64 characters, without control characters"));
    }
  }
  if (link.max_clicks && *link.max_clicks < 1) {
    return std::unexpected(Invalid("max_clicks must be a whole number of at least 1"));
  }
  const auto check_url = [&](const std::string& url,
                             const std::string& field) -> core::Result<void> {
    auto valid = core::ValidateUrl(url, self_host_);
    if (!valid) return std::unexpected(Invalid(field + ": " + valid.error().detail));
    return {};
  };
  if (link.expired_url) {
    if (auto ok = check_url(*link.expired_url, "expired_url"); !ok) return ok;
  }
  if (link.rules.size() > core::kMaxRules) return std::unexpected(Invalid("rules: at most 20"));
  for (std::size_t i = 0; i < link.rules.size(); ++i) {
    const std::string at = "rules[" + std::to_string(i) + "]";
    if (auto ok = core::ValidateRuleConditions(link.rules[i].when, i); !ok) return ok;
    if (auto ok = check_url(link.rules[i].url, at + ".url"); !ok) return ok;
  }
  if (!link.variants.empty() &&
      (link.variants.size() < core::kMinVariants || link.variants.size() > core::kMaxVariants)) {
    return std::unexpected(Invalid("variants: give 2 to 10 of them"));
  }
  for (std::size_t i = 0; i < link.variants.size(); ++i) {
    const std::string at = "variants[" + std::to_string(i) + "]";
    const int w = link.variants[i].weight;
    if (w < core::kMinVariantWeight || w > core::kMaxVariantWeight) {
      return std::unexpected(Invalid(at + ".weight must be a whole number from 1 to 100"));
    }
    if (auto ok = check_url(link.variants[i].url, at + ".url"); !ok) return ok;
  }
  if (link.og) {
    if (CodePoints(link.og->title) > 200 || CodePoints(link.og->description) > 1000) {
      return std::unexpected(Invalid("og: title at most 200 characters, description at most 1000"));
    }
    if (!link.og->image.empty()) {
      auto image = core::ValidateUrl(link.og->image, "");
      if (!image) return std::unexpected(Invalid("og.image: " + image.error().detail));
    }
  }
  return {};
}

core::Result<core::Link> LinkService::Build(const Principal& who, CreateLinkInput& input,
                                            core::Micros now) const {
  auto url = core::ValidateUrl(input.url, self_host_);
  if (!url) return std::unexpected(url.error());
  if (input.expires_at && *input.expires_at <= now) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "expires_at must be in the future");
  }
  if (input.custom_code) {
    if (auto valid = core::ValidateCustomCode(*input.custom_code); !valid) {
      return std::unexpected(valid.error());
    }
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
  }
  const bool has_password = input.options.password.has_value();
  if (has_password) {
    // Check the rest first: hashing is the slow part.
    LinkOptionsInput probe = input.options;
    probe.password.reset();
    core::Link checked = link;
    if (auto ok = ApplyOptions(std::move(probe), checked); !ok) return std::unexpected(ok.error());
    if (auto ok = CheckLink(checked); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = ApplyOptions(std::move(input.options), link); !ok) {
    return std::unexpected(ok.error());
  }
  if (!has_password) {
    if (auto ok = CheckLink(link); !ok) return std::unexpected(ok.error());
  }
  return link;
}

core::Result<CreateLinkOutput> LinkService::Create(const Principal& who, CreateLinkInput input) {
  const core::Micros now = clock_.Now();
  auto built = Build(who, input, now);
  if (!built) return std::unexpected(built.error());
  core::Link link = std::move(*built);
  const bool deduplicable = !link.is_custom && !link.expires_at && !link.IsPersonal();

  if (deduplicable) {
    auto existing = store_.FindDuplicate(who.user_id, link.url, link.redirect_type);
    if (!existing) return std::unexpected(existing.error());
    if (auto& found = *existing) return CreateLinkOutput{std::move(*found), false};
  }

  if (link.is_custom) {
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
      if (deduplicable) {
        auto existing = store_.FindDuplicate(who.user_id, link.url, link.redirect_type);
        if (!existing) return std::unexpected(existing.error());
        if (auto& found = *existing) return CreateLinkOutput{std::move(*found), false};
      }
    }
  }
  Created(link);
  return CreateLinkOutput{std::move(link), true};
}

void LinkService::Created(const core::Link& link) {
  // A negative entry for this code (someone tried it before it existed) must not outlive this,
  // here or on any other instance.
  cache_.Invalidate(link.code);
  if (shared_.cache != nullptr) {
    if (!shared_.cache->Put(link.code, ToShared(link), ports::kSharedCacheTtl)) CountSharedError();
  }
  if (shared_.bus != nullptr && !shared_.bus->Publish(link.code)) CountSharedError();
}

core::Result<std::vector<core::Result<CreateLinkOutput>>> LinkService::CreateMany(
    const Principal& who, std::vector<CreateLinkInput> inputs) {
  const core::Micros now = clock_.Now();
  std::vector<core::Result<CreateLinkOutput>> results;
  results.reserve(inputs.size());
  std::vector<core::Link> batch;
  std::vector<std::size_t> batch_index;  // batch[j] is inputs[batch_index[j]]
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto built = Build(who, inputs[i], now);
    if (!built) {
      results.emplace_back(std::unexpected(built.error()));
      continue;
    }
    core::Link link = std::move(*built);
    if (!link.is_custom && !link.expires_at && !link.IsPersonal()) {
      auto existing = store_.FindDuplicate(who.user_id, link.url, link.redirect_type);
      if (!existing) return std::unexpected(existing.error());
      if (auto& found = *existing) {
        results.emplace_back(CreateLinkOutput{std::move(*found), false});
        continue;
      }
      // Two identical items of one request: the second answers with the first.
      const auto twin = std::ranges::find_if(batch, [&](const core::Link& other) {
        return !other.is_custom && !other.expires_at && !other.IsPersonal() &&
               other.url == link.url && other.redirect_type == link.redirect_type;
      });
      if (twin != batch.end()) {
        results.emplace_back(core::Fail(core::ErrorCode::kInternal, "twin"));  // filled below
        batch_index.push_back(i);
        batch.push_back(*twin);
        batch.back().code.clear();  // marks a twin: not inserted
        continue;
      }
    }
    if (!link.is_custom) {
      auto code = codes_.Next();
      if (!code) return std::unexpected(code.error());
      link.code = std::move(*code);
    }
    results.emplace_back(core::Fail(core::ErrorCode::kInternal, "pending"));
    batch_index.push_back(i);
    batch.push_back(std::move(link));
  }
  // Twins are not sent to the store; they answer with their first's result.
  std::vector<core::Link> to_insert;
  std::vector<std::size_t> insert_pos;  // to_insert[k] is batch[insert_pos[k]]
  for (std::size_t j = 0; j < batch.size(); ++j) {
    if (!batch[j].code.empty()) {
      insert_pos.push_back(j);
      to_insert.push_back(batch[j]);
    }
  }
  auto stored = store_.InsertMany(to_insert);
  if (!stored) return std::unexpected(stored.error());
  for (std::size_t k = 0; k < to_insert.size(); ++k) {
    const std::size_t i = batch_index[insert_pos[k]];
    const core::Result<void>& done = (*stored)[k];
    if (done) {
      Created(to_insert[k]);
      results[i] = CreateLinkOutput{to_insert[k], true};
    } else if (done.error().code == core::ErrorCode::kConflict && to_insert[k].is_custom) {
      results[i] = core::Fail(core::ErrorCode::kConflict,
                              "custom_code '" + to_insert[k].code + "' is already taken");
    } else {
      results[i] = std::unexpected(done.error());
    }
  }
  for (std::size_t j = 0; j < batch.size(); ++j) {
    if (!batch[j].code.empty()) continue;
    const std::size_t i = batch_index[j];
    // Its first is the earlier identical one in the batch.
    for (std::size_t k = 0; k < to_insert.size(); ++k) {
      const core::Link& first = to_insert[k];
      if (!first.is_custom && first.url == batch[j].url &&
          first.redirect_type == batch[j].redirect_type && !first.expires_at &&
          !first.IsPersonal()) {
        const auto& r = results[batch_index[insert_pos[k]]];
        if (r) {
          results[i] = CreateLinkOutput{r->link, false};
        } else {
          results[i] = std::unexpected(r.error());
        }
        break;
      }
    }
  }
  return results;
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
  core::LinkQuery query;
  query.after = after;
  query.limit = limit;
  return Search(who, std::move(query));
}

core::Result<LinkPage> LinkService::Search(const Principal& who, core::LinkQuery query) {
  const int limit = query.limit;
  ++query.limit;  // one extra row tells whether another page follows
  auto rows = store_.SearchByOwner(who.user_id, query);
  if (!rows) return std::unexpected(rows.error());
  LinkPage page;
  page.items = std::move(*rows);
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.resize(static_cast<std::size_t>(limit));
    const core::Link& last = page.items.back();
    page.next = core::ListCursor{last.created_at, last.code, last.click_count};
  }
  return page;
}

core::Result<std::vector<core::TagCount>> LinkService::Tags(const Principal& who) {
  return store_.ListTags(who.user_id);
}

core::Result<core::Link> LinkService::Update(const Principal& who, std::string_view code,
                                             LinkPatch patch) {
  auto found = Get(who, code);
  if (!found) return found;
  core::Link link = std::move(*found);
  const core::Micros now = clock_.Now();
  if (patch.url) {
    auto url = core::ValidateUrl(*patch.url, self_host_);
    if (!url) return std::unexpected(url.error());
    link.url = std::move(url->url);
  }
  if (patch.redirect_type) link.redirect_type = *patch.redirect_type;
  if (patch.expires_at) {
    if (*patch.expires_at && **patch.expires_at <= now) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "expires_at must be in the future");
    }
    link.expires_at = *patch.expires_at;
  }
  if (patch.metadata_json) link.metadata_json = std::move(*patch.metadata_json);
  if (patch.title) link.title = std::move(*patch.title);
  if (patch.tags) link.tags = UniqueTags(std::move(*patch.tags));
  if (patch.forward_query) link.forward_query = *patch.forward_query;
  if (patch.max_clicks) link.max_clicks = *patch.max_clicks;
  if (patch.expired_url) link.expired_url = std::move(*patch.expired_url);
  if (patch.rules) {
    link.rules = std::move(*patch.rules);
    for (core::TargetRule& rule : link.rules) core::NormalizeRuleConditions(rule.when);
  }
  if (patch.variants) link.variants = std::move(*patch.variants);
  if (patch.og) link.og = std::move(*patch.og);
  if (auto ok = CheckLink(link); !ok) return std::unexpected(ok.error());
  if (patch.password) {
    link.password_hash.reset();
    if (*patch.password) {
      auto hash = HashPassword(**patch.password);
      if (!hash) return std::unexpected(hash.error());
      link.password_hash = std::move(*hash);
    }
  }
  if (auto stored = store_.Update(link); !stored) {
    if (stored.error().code == core::ErrorCode::kNotFound) {
      return core::Fail(core::ErrorCode::kNotFound, "no link with this code");
    }
    if (stored.error().code == core::ErrorCode::kConflict) {
      // The store keeps one plain link per owner, url and redirect type (deduplication).
      return core::Fail(core::ErrorCode::kConflict,
                        "another of your links already sends to this url with this redirect "
                        "type; change or delete that one");
    }
    return std::unexpected(stored.error());
  }
  Changed(link.code, ToShared(link));
  return link;
}

core::Result<bool> LinkService::UseClick(std::string_view code) { return store_.UseClick(code); }

core::Result<bool> LinkService::HasClicksLeft(std::string_view code) {
  auto link = store_.Find(code);
  if (!link) return std::unexpected(link.error());
  return !link->deleted_at && link->clicks_used < link->max_clicks.value_or(0);
}

void LinkService::Changed(std::string_view code, const ports::CachedRedirect& shared_value) {
  cache_.Invalidate(code);
  // The new value rather than a removal: a concurrent miss that read the old row fills only an
  // empty slot, so it cannot bring the old state back.
  if (shared_.cache != nullptr && !shared_.cache->Put(code, shared_value, ports::kSharedCacheTtl)) {
    CountSharedError();
  }
  if (shared_.bus != nullptr && !shared_.bus->Publish(code)) CountSharedError();
  if (purger_ != nullptr && !purger_->Purge(code)) CountSharedError();
}

core::Result<void> LinkService::Delete(const Principal& who, std::string_view code) {
  auto deleted = store_.SoftDelete(code, who.user_id, clock_.Now());
  if (!deleted) {
    if (deleted.error().code == core::ErrorCode::kNotFound) {
      return core::Fail(core::ErrorCode::kNotFound, "no link with this code");
    }
    return deleted;
  }
  ports::CachedRedirect tombstone;
  tombstone.state = core::LinkState::kGone;
  tombstone.owner_id = who.user_id;
  Changed(code, tombstone);
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
