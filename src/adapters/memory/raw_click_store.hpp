#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ports/raw_click_store.hpp"

namespace kurz::adapters::memory {

using core::Result;

// Raw clicks in process memory (embedded mode and tests). A row is kept per (code, event id,
// stream position): inserting it again replaces it, the same event at another position is
// another copy (as ClickHouse keeps copies until it merges them). Count() counts distinct event
// ids. Times outside [1970-01-01, 2100-01-01) are invalid_argument, as in ClickHouse. Thread-safe
// (one mutex).
class MemoryRawClickStore final : public ports::RawClickStore {
 public:
  MemoryRawClickStore() = default;

  Result<void> EnsureSchema() override;
  Result<void> Insert(const std::vector<ports::RawClick>& rows) override;
  Result<std::vector<ports::StoredEvent>> Find(const std::vector<std::string>& codes,
                                               const std::vector<std::string>& event_ids) override;
  Result<std::int64_t> Count(const std::string& code, core::Micros from, core::Micros to) override;

  // Every stored row of `code`, by event id and position (for tests and debugging).
  std::vector<ports::RawClick> Rows(std::string_view code);

 private:
  // (code, event id, partition, offset)
  using Key = std::tuple<std::string, std::string, std::int32_t, std::int64_t>;

  std::mutex mu_;
  std::map<Key, ports::RawClick> rows_;
};

}  // namespace kurz::adapters::memory
