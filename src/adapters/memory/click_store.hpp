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

#include "adapters/memory/link_store.hpp"
#include "ports/click_log.hpp"

namespace kurz::adapters::memory {

using core::Result;

// Click aggregates in process memory: both the write side (ClickLog) and the read side
// (StatsStore), with the SQL adapter's semantics: per code and day a click count and the set of
// visitors; applied batch ids remembered for a week. Thread-safe (one mutex).
class MemoryClickStore final : public ports::ClickLog, public ports::StatsStore {
 public:
  // Without a link store, links' click_count is not maintained.
  MemoryClickStore() = default;
  // With one, Apply adds the clicks to the link's click_count, like the SQL adapter.
  explicit MemoryClickStore(MemoryLinkStore& links) : links_(&links) {}

  // invalid_argument (nothing applied) when a delta's date is outside 0000-01-01..9999-12-31.
  Result<bool> Apply(const core::ClickBatch& batch) override;
  Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) override;
  Result<std::vector<core::BucketCount>> Series(std::string_view code,
                                                core::Granularity granularity, core::Micros from,
                                                core::Micros to) override;

 private:
  struct Day {
    std::int64_t clicks = 0;
    std::set<std::string, std::less<>> visitors;
  };

  MemoryLinkStore* links_ = nullptr;
  std::mutex mu_;
  std::unordered_set<std::string> applied_batches_;
  std::deque<std::pair<core::Micros, std::string>> applied_order_;  // oldest first
  std::map<std::string, std::map<std::int32_t, Day>, std::less<>> days_by_code_;
};

}  // namespace kurz::adapters::memory
