#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "adapters/memory/account_store.hpp"
#include "adapters/memory/click_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "adapters/memory/settings_store.hpp"
#include "adapters/postgres/account_store.hpp"
#include "adapters/postgres/click_store.hpp"
#include "adapters/postgres/database.hpp"
#include "adapters/postgres/link_store.hpp"
#include "adapters/postgres/settings_store.hpp"
#include "adapters/postgres/test_schema.hpp"
#include "adapters/sqlite/account_store.hpp"
#include "adapters/sqlite/click_store.hpp"
#include "adapters/sqlite/database.hpp"
#include "adapters/sqlite/link_store.hpp"
#include "adapters/sqlite/settings_store.hpp"
#include "adapters/temp_dir.hpp"
#include "ports/account_store.hpp"
#include "ports/click_log.hpp"
#include "ports/link_store.hpp"
#include "ports/settings_store.hpp"

// The backends the contract suites run against. Each is a fresh, empty set of stores that share
// one backing store (the link store sees the account store's users, the click log updates the
// links' click counts), constructed by default and destroyed at the end of a test.
namespace kurz::testing {

struct MemoryBackend {
  adapters::memory::MemoryAccountStore accounts;
  adapters::memory::MemoryLinkStore links{accounts};
  adapters::memory::MemoryClickStore clicks{links};
  adapters::memory::MemorySettingsStore settings;

  ports::AccountStore& Accounts() { return accounts; }
  ports::LinkStore& Links() { return links; }
  ports::ClickLog& ClickLog() { return clicks; }
  ports::StatsStore& Stats() { return clicks; }
  ports::SettingsStore& Settings() { return settings; }
};

// A fresh temp-file database, migrated.
class SqliteBackend {
 public:
  SqliteBackend() {
    auto db = adapters::sqlite::SqliteDatabase::Open(dir_.File("kurz.db"));
    if (!db) throw std::runtime_error("open: " + db.error().detail);
    db_ = std::move(*db);
    if (auto migrated = db_->Migrate(); !migrated) {
      throw std::runtime_error("migrate: " + migrated.error().detail);
    }
    accounts_ = std::make_unique<adapters::sqlite::SqliteAccountStore>(*db_);
    links_ = std::make_unique<adapters::sqlite::SqliteLinkStore>(*db_);
    clicks_ = std::make_unique<adapters::sqlite::SqliteClickStore>(*db_);
    settings_ = std::make_unique<adapters::sqlite::SqliteSettingsStore>(*db_);
  }

  ports::AccountStore& Accounts() { return *accounts_; }
  ports::LinkStore& Links() { return *links_; }
  ports::ClickLog& ClickLog() { return *clicks_; }
  ports::StatsStore& Stats() { return *clicks_; }
  ports::SettingsStore& Settings() { return *settings_; }

 private:
  TempDir dir_;
  std::unique_ptr<adapters::sqlite::SqliteDatabase> db_;
  std::unique_ptr<adapters::sqlite::SqliteAccountStore> accounts_;
  std::unique_ptr<adapters::sqlite::SqliteLinkStore> links_;
  std::unique_ptr<adapters::sqlite::SqliteClickStore> clicks_;
  std::unique_ptr<adapters::sqlite::SqliteSettingsStore> settings_;
};

// A fresh schema in the test server's database (KURZ_TEST_POSTGRES_URL; the test fails when it
// is unset), migrated, dropped at the end.
class PostgresBackend {
 public:
  PostgresBackend() {
    auto db = adapters::postgres::PostgresDatabase::Open(schema_.Url());
    if (!db) throw std::runtime_error("open: " + db.error().detail);
    db_ = std::move(*db);
    if (auto migrated = db_->Migrate(); !migrated) {
      throw std::runtime_error("migrate: " + migrated.error().detail);
    }
    accounts_ = std::make_unique<adapters::postgres::PostgresAccountStore>(*db_);
    links_ = std::make_unique<adapters::postgres::PostgresLinkStore>(*db_);
    clicks_ = std::make_unique<adapters::postgres::PostgresClickStore>(*db_);
    settings_ = std::make_unique<adapters::postgres::PostgresSettingsStore>(*db_);
  }

  ports::AccountStore& Accounts() { return *accounts_; }
  ports::LinkStore& Links() { return *links_; }
  ports::ClickLog& ClickLog() { return *clicks_; }
  ports::StatsStore& Stats() { return *clicks_; }
  ports::SettingsStore& Settings() { return *settings_; }

 private:
  PostgresTestSchema schema_;  // dropped last, after the connections are closed
  std::unique_ptr<adapters::postgres::PostgresDatabase> db_;
  std::unique_ptr<adapters::postgres::PostgresAccountStore> accounts_;
  std::unique_ptr<adapters::postgres::PostgresLinkStore> links_;
  std::unique_ptr<adapters::postgres::PostgresClickStore> clicks_;
  std::unique_ptr<adapters::postgres::PostgresSettingsStore> settings_;
};

}  // namespace kurz::testing
