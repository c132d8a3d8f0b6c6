#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/memory/link_store.hpp"
#include "ports/click_log.hpp"

namespace kurz::adapters::memory {

using core::Result;

// Clicks in process memory: both the write side (ClickLog) and the read side (StatsStore).
// Thread-safe (one mutex).
class MemoryClickStore final : public ports::ClickLog, public ports::StatsStore {
 public:
  // Without a link store, links' click_count is not maintained.
  MemoryClickStore() = default;
  // With one, Append adds new clicks to the link's click_count, like the SQL adapter.
  explicit MemoryClickStore(MemoryLinkStore& links) : links_(&links) {}

  Result<std::size_t> Append(std::span<const core::ClickRecord> batch) override;
  Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) override;

 private:
  struct Click {
    core::Micros at = 0;
    std::string ip_hash;
  };

  MemoryLinkStore* links_ = nullptr;
  std::mutex mu_;
  std::set<std::string, std::less<>> event_ids_;
  std::map<std::string, std::vector<Click>, std::less<>> clicks_by_code_;
};

}  // namespace kurz::adapters::memory
