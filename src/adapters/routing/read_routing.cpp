#include "adapters/routing/read_routing.hpp"

#include <utility>

namespace kurz::adapters::routing {

ReplicaSet::ReplicaSet(std::size_t replicas, ReadRoutingOptions options)
    : size_(replicas),
      options_(std::move(options)),
      replicas_(std::make_unique<PerReplica[]>(replicas)) {}

std::uint64_t ReplicaSet::replica_reads(std::size_t i) const {
  return i < size_ ? replicas_[i].reads.load(std::memory_order_relaxed) : 0;
}

std::uint64_t ReplicaSet::replica_errors(std::size_t i) const {
  return i < size_ ? replicas_[i].errors.load(std::memory_order_relaxed) : 0;
}

std::int64_t ReplicaSet::NowTicks() const {
  const auto now = options_.now ? options_.now() : std::chrono::steady_clock::now();
  // +1: a clock that starts at its epoch (a test's) must not read as "never marked".
  return now.time_since_epoch().count() + 1;
}

bool ReplicaSet::IsDown(std::size_t i) const {
  if (i >= size_) return false;
  const std::int64_t until = replicas_[i].down_until.load(std::memory_order_relaxed);
  return until != 0 && NowTicks() < until;
}

void ReplicaSet::MarkDown(std::size_t i) {
  if (i >= size_) return;
  const auto down_for =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.down_for);
  replicas_[i].down_until.store(NowTicks() + down_for.count(), std::memory_order_relaxed);
}

void ReplicaSet::NoteWrite(std::string_view key) {
  const std::int64_t now = NowTicks();
  const std::int64_t until =
      now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.own_writes_for)
                .count();
  std::lock_guard lock(writes_mu_);
  // Deletes are rare: dropping the expired entries on each one keeps the map small.
  std::erase_if(writes_, [now](const auto& entry) { return entry.second <= now; });
  writes_[std::string(key)] = until;
  any_writes_.store(true, std::memory_order_release);
}

bool ReplicaSet::WrittenRecently(std::string_view key) {
  if (!any_writes_.load(std::memory_order_acquire)) return false;
  const std::int64_t now = NowTicks();
  std::lock_guard lock(writes_mu_);
  const auto it = writes_.find(std::string(key));
  if (it == writes_.end()) return false;
  if (it->second > now) return true;
  writes_.erase(it);
  if (writes_.empty()) any_writes_.store(false, std::memory_order_release);
  return false;
}

ReplicaSet::Outcome ReplicaSet::Judge(std::size_t i, const core::Error* error,
                                      bool recheck_not_found) {
  PerReplica& replica = replicas_[i];
  if (error == nullptr || error->code == core::ErrorCode::kInvalidArgument ||
      (error->code == core::ErrorCode::kNotFound && !recheck_not_found)) {
    replica.reads.fetch_add(1, std::memory_order_relaxed);
    return Outcome::kAnswered;
  }
  if (error->code == core::ErrorCode::kNotFound) {
    replica.reads.fetch_add(1, std::memory_order_relaxed);
    return Outcome::kNotFound;
  }
  replica.errors.fetch_add(1, std::memory_order_relaxed);
  if (error->code == core::ErrorCode::kUnavailable || error->code == core::ErrorCode::kTimeout) {
    MarkDown(i);
  }
  // Anything else (a replica that has not replayed a migration yet, a query cancelled by
  // recovery) is not a reason to leave it out, but the primary answers this read.
  return Outcome::kFailed;
}

// ----- ReadRoutingLinkStore -----

Result<void> ReadRoutingLinkStore::Insert(const core::Link& link) { return primary_.Insert(link); }

Result<core::Link> ReadRoutingLinkStore::Find(std::string_view code) {
  return set_.Route(
      primary_, replicas_, [&](ports::LinkStore& store) { return store.Find(code); },
      set_.WrittenRecently(code) ? ReplicaSet::Policy::kPrimary
                                 : ReplicaSet::Policy::kReplicaRecheckNotFound);
}

Result<std::optional<core::Link>> ReadRoutingLinkStore::FindDuplicate(std::int64_t owner_id,
                                                                      std::string_view url,
                                                                      core::RedirectType type) {
  return primary_.FindDuplicate(owner_id, url, type);
}

Result<std::vector<core::Link>> ReadRoutingLinkStore::SearchByOwner(std::int64_t owner_id,
                                                                    const core::LinkQuery& query) {
  return set_.Route(primary_, replicas_,
                    [&](ports::LinkStore& store) { return store.SearchByOwner(owner_id, query); });
}

Result<std::vector<core::TagCount>> ReadRoutingLinkStore::ListTags(std::int64_t owner_id) {
  return set_.Route(primary_, replicas_,
                    [&](ports::LinkStore& store) { return store.ListTags(owner_id); });
}

Result<void> ReadRoutingLinkStore::Update(const core::Link& link) {
  Result<void> updated = primary_.Update(link);
  // As for SoftDelete: a replica that has not replayed the change would answer the old link.
  if (updated || updated.error().code != core::ErrorCode::kNotFound) set_.NoteWrite(link.code);
  return updated;
}

Result<bool> ReadRoutingLinkStore::UseClick(std::string_view code) {
  return primary_.UseClick(code);
}

Result<std::vector<Result<void>>> ReadRoutingLinkStore::InsertMany(
    std::span<const core::Link> links) {
  return primary_.InsertMany(links);
}

Result<void> ReadRoutingLinkStore::SoftDelete(std::string_view code, std::int64_t owner_id,
                                              core::Micros at) {
  Result<void> deleted = primary_.SoftDelete(code, owner_id, at);
  // Also when the outcome is unknown (the delete may have committed).
  if (deleted || deleted.error().code != core::ErrorCode::kNotFound) set_.NoteWrite(code);
  return deleted;
}

Result<std::uint64_t> ReadRoutingLinkStore::LeaseCodeBlock(std::uint64_t count) {
  return primary_.LeaseCodeBlock(count);
}

// ----- ReadRoutingStatsStore -----

Result<core::LinkStats> ReadRoutingStatsStore::Stats(std::string_view code, core::Date from,
                                                     core::Date to) {
  return set_.Route(primary_, replicas_,
                    [&](ports::StatsStore& store) { return store.Stats(code, from, to); });
}

Result<std::vector<core::BucketCount>> ReadRoutingStatsStore::Series(std::string_view code,
                                                                     core::Granularity granularity,
                                                                     core::Micros from,
                                                                     core::Micros to) {
  return set_.Route(primary_, replicas_, [&](ports::StatsStore& store) {
    return store.Series(code, granularity, from, to);
  });
}

}  // namespace kurz::adapters::routing
