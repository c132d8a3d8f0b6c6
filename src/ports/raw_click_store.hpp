#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"

namespace kurz::ports {

using core::Result;

// One click as the analytics pipeline saw it, enriched: a row of the raw clicks table.
struct RawClick {
  std::string event_id;  // 32 lowercase hex characters
  core::Micros at = 0;
  std::string code;
  std::string visitor;   // 32 hex: keyed hash of (day, IP), never the IP
  bool bot = false;      // bots and HEAD requests
  std::string country;   // ISO 3166-1 alpha-2, "ZZ" when unknown
  std::string city;      // empty when unknown
  std::string referrer;  // host, "(direct)" or "(unknown)"
  std::string device;
  std::string browser;
  std::string os;
  std::string user_agent;
  std::string accept_language;
  std::int32_t partition = 0;  // where the event was read: partition and offset of the stream
  std::int64_t offset = 0;
  bool operator==(const RawClick&) const = default;
};

// An event id stored at a given stream position.
struct StoredEvent {
  std::string event_id;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  bool operator==(const StoredEvent&) const = default;
};

// The raw clicks table (ClickHouse in cluster mode): every click, for ad-hoc analysis. Inserting
// the same rows again (a batch retried after a crash) must not make them count twice in
// Count(): rows are identified by event id. Blocking; thread-safe.
class RawClickStore {
 public:
  virtual ~RawClickStore() = default;

  // Creates the table if it is missing.
  virtual Result<void> EnsureSchema() = 0;

  // Durably inserts the rows (one request; all or nothing).
  virtual Result<void> Insert(const std::vector<RawClick>& rows) = 0;

  // Which of these event ids are stored, with where each was read from (every stored copy).
  // `codes` are the codes of those events (the table is ordered by code: it narrows the scan).
  virtual Result<std::vector<StoredEvent>> Find(const std::vector<std::string>& codes,
                                                const std::vector<std::string>& event_ids) = 0;

  // Distinct events of `code` (human and bot) at or after `from` and before `to`.
  virtual Result<std::int64_t> Count(const std::string& code, core::Micros from,
                                     core::Micros to) = 0;
};

}  // namespace kurz::ports
