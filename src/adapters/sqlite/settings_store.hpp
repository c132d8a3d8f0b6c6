#pragma once

#include <string>
#include <string_view>

#include "adapters/sqlite/database.hpp"
#include "ports/settings_store.hpp"

namespace kurz::adapters::sqlite {

using core::Result;

// Named values in the `settings` table. The database must outlive the store.
class SqliteSettingsStore final : public ports::SettingsStore {
 public:
  explicit SqliteSettingsStore(SqliteDatabase& db) : db_(db) {}

  Result<std::string> GetOrInsert(std::string_view name, std::string_view value_if_absent) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace kurz::adapters::sqlite
