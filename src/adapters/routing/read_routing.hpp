#pragma once

// Read replicas behind the storage ports: decorators that send the reads which tolerate a little
// replication lag (redirect misses, lists, stats) to replicas and everything else to the primary.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "ports/click_log.hpp"
#include "ports/link_store.hpp"

namespace kurz::adapters::routing {

using core::Result;

struct ReadRoutingOptions {
  // How long a replica that answered unavailable or timeout is left out; the first read after
  // that tries it again.
  std::chrono::milliseconds down_for{1000};
  // How long Finds of a code this process deleted go to the primary: a replica that has not
  // replayed the delete yet would answer the link as live, and the redirect cache would keep it.
  std::chrono::milliseconds own_writes_for{10'000};
  // Monotonic time; null: std::chrono::steady_clock::now (tests pass their own).
  std::function<std::chrono::steady_clock::time_point()> now;
};

// The health and counters of the read replicas of one primary, shared by the routing stores of
// that database, so a replica one of them found down is left out by all. Thread-safe.
class ReplicaSet {
 public:
  explicit ReplicaSet(std::size_t replicas, ReadRoutingOptions options = {});

  std::size_t size() const { return size_; }

  // Routed reads answered by the primary (fallbacks and not_found rechecks included).
  std::uint64_t primary_reads() const { return primary_reads_.load(std::memory_order_relaxed); }
  // Routed reads answered by replica i (0-based), not_found answers included.
  std::uint64_t replica_reads(std::size_t i) const;
  // Calls to replica i that failed (any error but not_found and invalid_argument), each followed
  // by the next replica or the primary.
  std::uint64_t replica_errors(std::size_t i) const;
  // Reads the primary answered because no replica could: all down or failing.
  std::uint64_t fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }
  // Finds a replica answered not_found that were asked again on the primary (replication lag).
  std::uint64_t rechecks() const { return rechecks_.load(std::memory_order_relaxed); }
  // Whether replica i is left out now: it answered unavailable or timeout within down_for.
  bool IsDown(std::size_t i) const;
  // Leaves replica i out for down_for, as if a read had found it unavailable (a failed health
  // check, a replica unreachable at start).
  void MarkDown(std::size_t i);

  // Remembers that this process changed `key` (deleted a link) so that WrittenRecently says so
  // for own_writes_for.
  void NoteWrite(std::string_view key);
  bool WrittenRecently(std::string_view key);

  enum class Policy {
    kReplica,                 // a replica's answer is final
    kReplicaRecheckNotFound,  // a replica's not_found is asked again on the primary
    kPrimary,                 // the primary only (counted as a primary read)
  };
  // Runs read(store) on the replicas, round-robin from the next one in turn and skipping those
  // left out, until one answers; on the primary when none does. An answer is a success,
  // not_found or invalid_argument (the same everywhere); any other failure moves on to the next,
  // and unavailable or timeout also leave that replica out for down_for.
  template <class Store, class Read>
  auto Route(Store& primary, const std::vector<Store*>& replicas, Read&& read,
             Policy policy = Policy::kReplica) -> decltype(read(primary));

 private:
  enum class Outcome { kAnswered, kNotFound, kFailed };
  // Counts a replica's answer and says what to do with it.
  Outcome Judge(std::size_t i, const core::Error* error, bool recheck_not_found);
  std::int64_t NowTicks() const;

  std::size_t size_;
  ReadRoutingOptions options_;
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::uint64_t> primary_reads_{0};
  std::atomic<std::uint64_t> fallbacks_{0};
  std::atomic<std::uint64_t> rechecks_{0};
  struct PerReplica {
    std::atomic<std::int64_t> down_until{0};  // steady-clock ticks; 0: up
    std::atomic<std::uint64_t> reads{0};
    std::atomic<std::uint64_t> errors{0};
  };
  std::unique_ptr<PerReplica[]> replicas_;

  std::atomic<bool> any_writes_{false};  // lets Finds skip the lock while nothing was written
  std::mutex writes_mu_;
  std::unordered_map<std::string, std::int64_t> writes_;  // key -> until (ticks)
};

template <class Store, class Read>
auto ReplicaSet::Route(Store& primary, const std::vector<Store*>& replicas, Read&& read,
                       Policy policy) -> decltype(read(primary)) {
  const std::size_t n = policy == Policy::kPrimary ? 0 : std::min(size_, replicas.size());
  const bool recheck_not_found = policy == Policy::kReplicaRecheckNotFound;
  bool recheck = false;
  if (n > 0) {
    const std::size_t first = next_.fetch_add(1, std::memory_order_relaxed) % n;
    for (std::size_t k = 0; k < n && !recheck; ++k) {
      const std::size_t i = (first + k) % n;
      if (IsDown(i)) continue;
      auto result = read(*replicas[i]);
      const Outcome outcome = Judge(i, result ? nullptr : &result.error(), recheck_not_found);
      if (outcome == Outcome::kAnswered) return result;
      recheck = outcome == Outcome::kNotFound;  // the primary may already have it
    }
    (recheck ? rechecks_ : fallbacks_).fetch_add(1, std::memory_order_relaxed);
  }
  primary_reads_.fetch_add(1, std::memory_order_relaxed);
  return read(primary);
}

// A LinkStore whose Find, SearchByOwner and ListTags go to replicas (ReplicaSet::Route; Find's
// not_found is asked again on the primary, so a link just made on another instance never 404s
// through lag, and a link this process deleted or updated is looked up on the primary for
// own_writes_for), while Insert, InsertMany, Update, UseClick (a write: it spends the budget),
// SoftDelete, LeaseCodeBlock and FindDuplicate (part of a create, which must see the latest
// writes) always go to the primary. Lists may lag the primary by the replication delay. The
// stores and the set must outlive it.
class ReadRoutingLinkStore final : public ports::LinkStore {
 public:
  // `set` has replicas.size() replicas, in the same order.
  ReadRoutingLinkStore(ports::LinkStore& primary, std::vector<ports::LinkStore*> replicas,
                       ReplicaSet& set)
      : primary_(primary), replicas_(std::move(replicas)), set_(set) {}

  Result<void> Insert(const core::Link& link) override;
  Result<core::Link> Find(std::string_view code) override;
  Result<std::optional<core::Link>> FindDuplicate(std::int64_t owner_id, std::string_view url,
                                                  core::RedirectType type) override;
  Result<std::vector<core::Link>> SearchByOwner(std::int64_t owner_id,
                                                const core::LinkQuery& query) override;
  Result<std::vector<core::TagCount>> ListTags(std::int64_t owner_id) override;
  Result<void> Update(const core::Link& link) override;
  Result<bool> UseClick(std::string_view code) override;
  Result<std::vector<Result<void>>> InsertMany(std::span<const core::Link> links) override;
  Result<void> SoftDelete(std::string_view code, std::int64_t owner_id, core::Micros at) override;
  Result<std::uint64_t> LeaseCodeBlock(std::uint64_t count) override;

 private:
  ports::LinkStore& primary_;
  std::vector<ports::LinkStore*> replicas_;
  ReplicaSet& set_;
};

// A StatsStore whose Stats and Series go to replicas (ReplicaSet::Route). The stores and the set
// must outlive it.
class ReadRoutingStatsStore final : public ports::StatsStore {
 public:
  // `set` has replicas.size() replicas, in the same order.
  ReadRoutingStatsStore(ports::StatsStore& primary, std::vector<ports::StatsStore*> replicas,
                        ReplicaSet& set)
      : primary_(primary), replicas_(std::move(replicas)), set_(set) {}

  Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) override;
  Result<std::vector<core::BucketCount>> Series(std::string_view code,
                                                core::Granularity granularity, core::Micros from,
                                                core::Micros to) override;

 private:
  ports::StatsStore& primary_;
  std::vector<ports::StatsStore*> replicas_;
  ReplicaSet& set_;
};

}  // namespace kurz::adapters::routing
