#include "app/backends.hpp"

#include <filesystem>
#include <system_error>

#include "adapters/memory/account_store.hpp"
#include "adapters/memory/click_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "adapters/memory/settings_store.hpp"
#include "adapters/sqlite/account_store.hpp"
#include "adapters/sqlite/click_store.hpp"
#include "adapters/sqlite/database.hpp"
#include "adapters/sqlite/link_store.hpp"
#include "adapters/sqlite/settings_store.hpp"

namespace kurz::app {

namespace {

struct MemoryBundle {
  adapters::memory::MemoryAccountStore accounts;
  adapters::memory::MemoryLinkStore links{accounts};
  adapters::memory::MemorySettingsStore settings;
  adapters::memory::MemoryClickStore clicks{links};
};

struct SqliteBundle {
  std::unique_ptr<adapters::sqlite::SqliteDatabase> db;
  std::unique_ptr<adapters::sqlite::SqliteLinkStore> links;
  std::unique_ptr<adapters::sqlite::SqliteAccountStore> accounts;
  std::unique_ptr<adapters::sqlite::SqliteSettingsStore> settings;
  std::unique_ptr<adapters::sqlite::SqliteClickStore> clicks;
};

core::Result<Backends> OpenSqlite(const BackendUrl& url, bool migrate, int* applied) {
  // sqlite:///abs/path.db or sqlite://relative/path.db
  const std::string path = url.rest;
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
  auto db = adapters::sqlite::SqliteDatabase::Open(path);
  if (!db) return std::unexpected(db.error());
  if (migrate) {
    auto n = (*db)->Migrate();
    if (!n) return std::unexpected(n.error());
    if (applied) *applied = *n;
  }
  auto bundle = std::make_shared<SqliteBundle>();
  bundle->db = std::move(*db);
  bundle->links = std::make_unique<adapters::sqlite::SqliteLinkStore>(*bundle->db);
  bundle->accounts = std::make_unique<adapters::sqlite::SqliteAccountStore>(*bundle->db);
  bundle->settings = std::make_unique<adapters::sqlite::SqliteSettingsStore>(*bundle->db);
  bundle->clicks = std::make_unique<adapters::sqlite::SqliteClickStore>(*bundle->db);
  Backends b;
  b.links = bundle->links.get();
  b.accounts = bundle->accounts.get();
  b.settings = bundle->settings.get();
  b.click_log = bundle->clicks.get();
  b.stats = bundle->clicks.get();
  b.description = "sqlite " + path;
  b.ping = [db = bundle->db.get()] { return db->Ping(); };
  b.owner = bundle;
  return b;
}

core::Result<Backends> OpenMemory(int* applied) {
  auto bundle = std::make_shared<MemoryBundle>();
  Backends b;
  b.links = &bundle->links;
  b.accounts = &bundle->accounts;
  b.settings = &bundle->settings;
  b.click_log = &bundle->clicks;
  b.stats = &bundle->clicks;
  b.description = "memory (nothing is kept after exit)";
  b.ping = [] { return core::Result<void>{}; };
  b.owner = bundle;
  if (applied) *applied = 0;
  return b;
}

}  // namespace

std::string DatabaseUrl(const ServeConfig& config) {
  if (!config.database.empty()) return config.database;
  return "sqlite://" + (std::filesystem::path(config.data_dir) / "kurz.db").string();
}

core::Result<Backends> OpenBackends(const std::string& text, bool migrate, int* applied) {
  auto url = ParseBackendUrl(text);
  if (!url) return std::unexpected(url.error());
  if (url->scheme == "sqlite") return OpenSqlite(*url, migrate, applied);
  if (url->scheme == "memory") return OpenMemory(applied);
  if (url->scheme == "postgres" || url->scheme == "postgresql") {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--database postgres:// is not available in this version yet (known: "
                      "sqlite, memory)");
  }
  return core::Fail(core::ErrorCode::kInvalidArgument,
                    "unknown database scheme '" + url->scheme + "' (known: sqlite, memory)");
}

core::Result<void> CheckAuxiliaryBackends(const ServeConfig& config) {
  struct Aux {
    const char* flag;
    const std::string& value;
    const char* known;
  };
  const Aux aux[] = {{"--cache", config.cache, "memory"},
                     {"--events", config.events, "memory"},
                     {"--analytics", config.analytics, "sqlite"}};
  for (const Aux& a : aux) {
    if (a.value.empty()) continue;
    auto url = a.value.find("://") == std::string::npos && std::string(a.known) == "sqlite" &&
                       a.value == "sqlite"
                   ? core::Result<BackendUrl>(BackendUrl{"sqlite", "", a.value})
                   : ParseBackendUrl(a.value);
    if (!url) return std::unexpected(url.error());
    if (url->scheme != a.known) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        std::string(a.flag) + " '" + a.value +
                            "' is not available in this version (known: " + a.known + ")");
    }
  }
  return {};
}

}  // namespace kurz::app
