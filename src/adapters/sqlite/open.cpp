#include "adapters/sqlite/open.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "adapters/sqlite/account_store.hpp"
#include "adapters/sqlite/click_store.hpp"
#include "adapters/sqlite/database.hpp"
#include "adapters/sqlite/link_store.hpp"
#include "adapters/sqlite/settings_store.hpp"

namespace kurz::adapters::sqlite {
namespace {

struct Bundle {
  std::unique_ptr<SqliteDatabase> db;
  std::unique_ptr<SqliteLinkStore> links;
  std::unique_ptr<SqliteAccountStore> accounts;
  std::unique_ptr<SqliteSettingsStore> settings;
  std::unique_ptr<SqliteClickStore> clicks;
};

}  // namespace

core::Result<Database> Open(std::string_view url, const DatabaseOptions& options) {
  const auto sep = url.find("://");
  const std::string path(sep == std::string_view::npos ? std::string_view() : url.substr(sep + 3));
  if (path.empty()) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "the sqlite URL needs a file path, e.g. sqlite:///var/lib/kurz/kurz.db");
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return core::Fail(core::ErrorCode::kUnavailable,
                        "cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  SqliteOptions sqlite_options;
  sqlite_options.clock = options.clock;
  auto db = SqliteDatabase::Open(path, sqlite_options);
  if (!db) return std::unexpected(db.error());
  Database out;
  if (options.migrate) {
    auto n = (*db)->Migrate();
    if (!n) return std::unexpected(n.error());
    out.migrations_applied = *n;
  }
  auto bundle = std::make_shared<Bundle>();
  bundle->db = std::move(*db);
  bundle->links = std::make_unique<SqliteLinkStore>(*bundle->db);
  bundle->accounts = std::make_unique<SqliteAccountStore>(*bundle->db);
  bundle->settings = std::make_unique<SqliteSettingsStore>(*bundle->db);
  bundle->clicks = std::make_unique<SqliteClickStore>(*bundle->db);
  out.links = bundle->links.get();
  out.accounts = bundle->accounts.get();
  out.settings = bundle->settings.get();
  out.click_log = bundle->clicks.get();
  out.stats = bundle->clicks.get();
  out.description = "sqlite " + path;
  out.ping = [db = bundle->db.get()] { return db->Ping(); };
  out.owner = std::move(bundle);
  return out;
}

}  // namespace kurz::adapters::sqlite
