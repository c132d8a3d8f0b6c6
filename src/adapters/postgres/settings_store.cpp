#include "adapters/postgres/settings_store.hpp"

#include <optional>

#include "adapters/postgres/guard.hpp"

namespace kurz::adapters::postgres {
namespace {

// Values travel as hex ("\x..." would depend on bytea_output): decoded here.
std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = nibble(hex[i]);
    const int low = nibble(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

Result<std::optional<std::string>> Lookup(Connection& c, std::string_view name) {
  Result<Rows> rows = c.Query("SELECT encode(value, 'hex') FROM settings WHERE name = $1", name);
  if (!rows) return std::unexpected(std::move(rows.error()));
  if (rows->Size() == 0) return std::optional<std::string>();
  std::optional<std::string> value = FromHex(rows->View(0, 0));
  if (!value) return core::Fail(core::ErrorCode::kInternal, "postgres: bad hex from encode()");
  return value;
}

}  // namespace

Result<std::string> PostgresSettingsStore::GetOrInsert(std::string_view name,
                                                       std::string_view value_if_absent) {
  return Guard([&]() -> Result<std::string> {
    return db_.Run([&](Connection& c) -> Result<std::string> {
      // Settings are read at every start and written once: try a plain read first.
      Result<std::optional<std::string>> stored = Lookup(c, name);
      if (!stored) return std::unexpected(std::move(stored.error()));
      if (*stored) return std::move(**stored);
      Result<Rows> inserted = c.Query(
          "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name,
          Param::Bytes(value_if_absent));
      if (!inserted) return std::unexpected(std::move(inserted.error()));
      if (inserted->Affected() == 1) return std::string(value_if_absent);
      // Another caller stored it first (and has committed: ON CONFLICT waited for it). A new
      // statement sees it.
      stored = Lookup(c, name);
      if (!stored) return std::unexpected(std::move(stored.error()));
      if (!*stored) return core::Fail(core::ErrorCode::kInternal, "setting vanished");
      return std::move(**stored);
    });
  });
}

}  // namespace kurz::adapters::postgres
