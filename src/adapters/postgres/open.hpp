#pragma once

#include <string_view>

#include "adapters/common/open.hpp"

namespace kurz::adapters::postgres {

// Opens postgres:// or postgresql:// (a libpq URL, multi-host allowed) with a pool of
// options.max_connections, and runs the migrations (and creates the click partitions ahead)
// when options.migrate is set. invalid_argument for a malformed URL, unavailable when the server
// cannot be reached. Messages and the description show the URL with its password redacted.
core::Result<Database> Open(std::string_view url, const DatabaseOptions& options);

}  // namespace kurz::adapters::postgres

namespace kurz::adapters::postgres {

// One read replica of a PostgreSQL database: the stores that read (links, stats), not migrated.
// Opening does not connect, so a replica that is down now is used once it answers (ping tells).
struct Replica {
  std::shared_ptr<void> owner;
  ports::LinkStore* links = nullptr;
  ports::StatsStore* stats = nullptr;
  std::function<core::Result<void>()> ping;
  std::string description;  // the URL, password redacted
};
core::Result<Replica> OpenReplica(std::string_view url, const DatabaseOptions& options);

}  // namespace kurz::adapters::postgres
