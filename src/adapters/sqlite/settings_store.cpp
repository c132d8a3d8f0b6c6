#include "adapters/sqlite/settings_store.hpp"

#include <optional>

#include "adapters/sqlite/guard.hpp"

namespace kurz::adapters::sqlite {
namespace {

constexpr std::string_view kSelect = "SELECT value FROM settings WHERE name = ?1";

Result<std::optional<std::string>> Lookup(Connection& c, std::string_view name) {
  Result<Statement> select = c.Prepare(kSelect);
  if (!select) return std::unexpected(std::move(select.error()));
  select->Bind(1, name);
  Result<bool> row = select->Step();
  if (!row) return std::unexpected(std::move(row.error()));
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(select->Text(0));
}

}  // namespace

Result<std::string> SqliteSettingsStore::GetOrInsert(std::string_view name,
                                                     std::string_view value_if_absent) {
  return Guard([&]() -> Result<std::string> {
    // Settings are read at every start and written once: try a plain read first.
    Result<std::optional<std::string>> stored =
        db_.Read([name](Connection& c) { return Lookup(c, name); });
    if (!stored) return std::unexpected(std::move(stored.error()));
    if (*stored) return std::move(**stored);

    std::string value;
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      Result<Statement> insert = c.Prepare(
          "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING");
      if (!insert) return std::unexpected(std::move(insert.error()));
      insert->Bind(1, name).Bind(2, value_if_absent);
      if (Result<void> r = insert->Run(); !r) return r;
      Result<std::optional<std::string>> current = Lookup(c, name);
      if (!current) return std::unexpected(std::move(current.error()));
      if (!*current) return core::Fail(core::ErrorCode::kInternal, "setting vanished");
      value = std::move(**current);
      return {};
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return value;
  });
}

}  // namespace kurz::adapters::sqlite
