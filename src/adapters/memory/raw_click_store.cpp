#include "adapters/memory/raw_click_store.hpp"

#include <limits>
#include <set>
#include <unordered_set>

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {
namespace {

// 2100-01-01T00:00:00Z, the end of what the ClickHouse adapter can store.
constexpr core::Micros kEndOfTime = 4'102'444'800LL * core::kMicrosPerSecond;

}  // namespace

Result<void> MemoryRawClickStore::EnsureSchema() { return {}; }

Result<void> MemoryRawClickStore::Insert(const std::vector<ports::RawClick>& rows) {
  return Guard([&]() -> Result<void> {
    for (const ports::RawClick& row : rows) {
      if (row.at < 0 || row.at >= kEndOfTime) {
        return core::Fail(core::ErrorCode::kInvalidArgument,
                          "raw click " + row.event_id + ": time " + std::to_string(row.at) +
                              " is outside 1970-01-01..2100-01-01");
      }
    }
    std::map<Key, ports::RawClick> added;  // built first: all or nothing
    for (const ports::RawClick& row : rows) {
      added.insert_or_assign(Key{row.code, row.event_id, row.partition, row.offset}, row);
    }
    std::lock_guard lock(mu_);
    for (auto& [key, row] : added) rows_.insert_or_assign(key, std::move(row));
    return {};
  });
}

Result<std::vector<ports::StoredEvent>> MemoryRawClickStore::Find(
    const std::vector<std::string>& codes, const std::vector<std::string>& event_ids) {
  return Guard([&]() -> Result<std::vector<ports::StoredEvent>> {
    const std::set<std::string_view> code_set(codes.begin(), codes.end());
    const std::set<std::string_view> id_set(event_ids.begin(), event_ids.end());
    std::vector<ports::StoredEvent> found;
    std::lock_guard lock(mu_);
    for (const std::string_view code : code_set) {
      for (const std::string_view id : id_set) {
        const Key first{std::string(code), std::string(id),
                        std::numeric_limits<std::int32_t>::min(),
                        std::numeric_limits<std::int64_t>::min()};
        for (auto it = rows_.lower_bound(first);
             it != rows_.end() && std::get<0>(it->first) == code && std::get<1>(it->first) == id;
             ++it) {
          found.push_back(
              ports::StoredEvent{it->second.event_id, it->second.partition, it->second.offset});
        }
      }
    }
    return found;
  });
}

Result<std::int64_t> MemoryRawClickStore::Count(const std::string& code, core::Micros from,
                                                core::Micros to) {
  return Guard([&]() -> Result<std::int64_t> {
    std::unordered_set<std::string_view> events;
    std::lock_guard lock(mu_);
    for (auto it = rows_.lower_bound(Key{code, "", std::numeric_limits<std::int32_t>::min(),
                                         std::numeric_limits<std::int64_t>::min()});
         it != rows_.end() && std::get<0>(it->first) == code; ++it) {
      if (it->second.at >= from && it->second.at < to) events.insert(it->second.event_id);
    }
    return static_cast<std::int64_t>(events.size());
  });
}

std::vector<ports::RawClick> MemoryRawClickStore::Rows(std::string_view code) {
  std::vector<ports::RawClick> rows;
  std::lock_guard lock(mu_);
  for (const auto& [key, row] : rows_) {
    if (std::get<0>(key) == code) rows.push_back(row);
  }
  return rows;
}

}  // namespace kurz::adapters::memory
