#pragma once

#include <string>
#include <string_view>

#include "adapters/postgres/database.hpp"
#include "ports/settings_store.hpp"

namespace kurz::adapters::postgres {

using core::Result;

// Named values in the `settings` table (values as bytea: any bytes). The database must outlive
// the store.
class PostgresSettingsStore final : public ports::SettingsStore {
 public:
  explicit PostgresSettingsStore(PostgresDatabase& db) : db_(db) {}

  Result<std::string> GetOrInsert(std::string_view name, std::string_view value_if_absent) override;

 private:
  PostgresDatabase& db_;
};

}  // namespace kurz::adapters::postgres
