#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "adapters/memory/link_store.hpp"
#include "ports/click_log.hpp"

namespace kurz::adapters::memory {

using core::Result;

// Click aggregates in process memory: both the write side (ClickLog) and the read side
// (StatsStore), with the SQL adapter's semantics: per code and day the human and bot click
// counts, the set of visitors and the breakdowns (capped by core::MergeBreakdown); per code the
// per-minute and per-hour counts, deleted after core::kMinuteRetention / core::kHourRetention;
// applied batch ids remembered for a week; event stream positions. Thread-safe (one mutex).
class MemoryClickStore final : public ports::ClickLog, public ports::StatsStore {
 public:
  // Without a link store, links' click_count is not maintained.
  MemoryClickStore() = default;
  // With one, Apply adds the clicks to the link's click_count, like the SQL adapter.
  explicit MemoryClickStore(MemoryLinkStore& links) : links_(&links) {}

  // invalid_argument (nothing applied) when a delta's date is outside 0000-01-01..9999-12-31, a
  // count is negative, a minute bucket is not a whole minute of the delta's day, or a position
  // move is malformed (core::InvalidMoves).
  Result<bool> Apply(const core::ClickBatch& batch) override;
  Result<std::vector<core::StreamPosition>> Positions(std::string_view stream) override;
  Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) override;
  Result<std::vector<core::BucketCount>> Series(std::string_view code,
                                                core::Granularity granularity, core::Micros from,
                                                core::Micros to) override;

 private:
  struct Day {
    std::int64_t clicks = 0;
    std::int64_t bot_clicks = 0;
    std::set<std::string, std::less<>> visitors;
    core::Breakdowns breakdowns;  // each at most core::kMaxValuesPerDay values plus "(other)"
  };
  struct Code {
    std::map<std::int32_t, Day> days;
    std::map<core::Micros, core::BucketCount> minutes;  // by start
    std::map<core::Micros, core::BucketCount> hours;
  };
  // Buckets by (start, code), oldest first: what retention deletes without visiting every code.
  using BucketIndex = std::set<std::pair<core::Micros, std::string>>;

  // Adds b into the bucket of `code` with its start (in `buckets` and `index`).
  static void AddBucket(std::map<core::Micros, core::BucketCount>& buckets, BucketIndex& index,
                        const std::string& code, const core::BucketCount& b);
  // Deletes the buckets (Code::minutes or Code::hours, indexed by `index`) older than `before`.
  void Forget(BucketIndex& index, std::map<core::Micros, core::BucketCount> Code::*buckets,
              core::Micros before);

  MemoryLinkStore* links_ = nullptr;
  std::mutex mu_;
  std::unordered_set<std::string> applied_batches_;
  std::deque<std::pair<core::Micros, std::string>> applied_order_;  // oldest first
  std::map<std::string, Code, std::less<>> codes_;
  // Next offset to read by stream and partition.
  std::map<std::string, std::map<std::int32_t, std::int64_t>, std::less<>> positions_;
  BucketIndex minute_index_;
  BucketIndex hour_index_;
};

}  // namespace kurz::adapters::memory
