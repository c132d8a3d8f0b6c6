#include "adapters/postgres/open.hpp"

#include <memory>
#include <string>

#include "adapters/postgres/account_store.hpp"
#include "adapters/postgres/click_store.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/database.hpp"
#include "adapters/postgres/link_store.hpp"
#include "adapters/postgres/settings_store.hpp"

namespace kurz::adapters::postgres {
namespace {

struct Bundle {
  std::unique_ptr<PostgresDatabase> db;
  std::unique_ptr<PostgresLinkStore> links;
  std::unique_ptr<PostgresAccountStore> accounts;
  std::unique_ptr<PostgresSettingsStore> settings;
  std::unique_ptr<PostgresClickStore> clicks;
};

struct ReplicaBundle {
  std::unique_ptr<PostgresDatabase> db;
  std::unique_ptr<PostgresLinkStore> links;
  std::unique_ptr<PostgresClickStore> clicks;
};

}  // namespace

core::Result<Database> Open(std::string_view url, const DatabaseOptions& options) {
  PostgresOptions pg;
  pg.max_connections = options.max_connections;
  pg.clock = options.clock;
  auto db = PostgresDatabase::Open(std::string(url), pg);
  if (!db) return std::unexpected(db.error());
  Database out;
  if (options.migrate) {
    auto n = (*db)->Migrate();  // also creates the click partitions ahead
    if (!n) return std::unexpected(n.error());
    out.migrations_applied = *n;
  }
  auto bundle = std::make_shared<Bundle>();
  bundle->db = std::move(*db);
  bundle->links = std::make_unique<PostgresLinkStore>(*bundle->db);
  bundle->accounts = std::make_unique<PostgresAccountStore>(*bundle->db);
  bundle->settings = std::make_unique<PostgresSettingsStore>(*bundle->db);
  bundle->clicks = std::make_unique<PostgresClickStore>(*bundle->db);
  out.links = bundle->links.get();
  out.accounts = bundle->accounts.get();
  out.settings = bundle->settings.get();
  out.click_log = bundle->clicks.get();
  out.stats = bundle->clicks.get();
  out.description = "postgres " + RedactUrl(url);
  out.ping = [db = bundle->db.get()] { return db->Ping(); };
  out.owner = std::move(bundle);
  return out;
}

core::Result<Replica> OpenReplica(std::string_view url, const DatabaseOptions& options) {
  PostgresOptions pg;
  pg.max_connections = options.max_connections;
  pg.clock = options.clock;
  pg.connect_timeout_seconds = 2;  // libpq's least: a replica that hangs costs little
  pg.connect_on_open = false;      // one that is down now is used once it is up
  auto db = PostgresDatabase::Open(std::string(url), pg);
  if (!db) return std::unexpected(db.error());
  auto bundle = std::make_shared<ReplicaBundle>();
  bundle->db = std::move(*db);
  bundle->links = std::make_unique<PostgresLinkStore>(*bundle->db);
  bundle->clicks = std::make_unique<PostgresClickStore>(*bundle->db);
  Replica out;
  out.links = bundle->links.get();
  out.stats = bundle->clicks.get();
  out.ping = [db = bundle->db.get()] { return db->Ping(); };
  out.description = RedactUrl(url);
  out.owner = std::move(bundle);
  return out;
}

}  // namespace kurz::adapters::postgres
