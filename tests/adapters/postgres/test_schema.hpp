#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "adapters/postgres/database.hpp"

namespace kurz::testing {

// The test server's URL from KURZ_TEST_POSTGRES_URL. Throws (failing the test, never skipping
// it) with what to do when the variable is unset.
inline std::string PostgresServerUrl() {
  const char* url = std::getenv("KURZ_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(
        "KURZ_TEST_POSTGRES_URL is not set. Start the test server with "
        "`scripts/services/postgres start` and `export "
        "KURZ_TEST_POSTGRES_URL=$(scripts/services/postgres url)`");
  }
  return url;
}

// `url` with a query parameter added.
inline std::string WithParam(const std::string& url, std::string_view param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(param);
}

// A fresh, empty schema (kurz_t_<random>) in the test server's database, dropped with everything
// in it at scope exit. Url() connects with it as the only schema on the search_path, so each test
// gets its own tables while sharing the server and the database; that is much faster than a
// database per test.
class PostgresTestSchema {
 public:
  PostgresTestSchema() : server_url_(PostgresServerUrl()) {
    std::random_device random;
    const std::uint64_t n = (std::uint64_t{random()} << 32) ^ random();
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(n));
    name_ = std::string("kurz_t_") + suffix;
    url_ = WithParam(server_url_, "options=-csearch_path%3D" + name_);
    adapters::postgres::PostgresOptions options;
    options.max_connections = 1;
    auto admin = adapters::postgres::PostgresDatabase::Open(server_url_, options);
    if (!admin) throw std::runtime_error("test schema: " + admin.error().detail);
    admin_ = std::move(*admin);
    if (auto created = Exec("CREATE SCHEMA " + name_); !created) {
      throw std::runtime_error("test schema: " + created.error().detail);
    }
  }
  PostgresTestSchema(const PostgresTestSchema&) = delete;
  PostgresTestSchema& operator=(const PostgresTestSchema&) = delete;
  ~PostgresTestSchema() { (void)Exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE"); }

  // Connects to the schema (search_path = it).
  const std::string& Url() const { return url_; }
  const std::string& Name() const { return name_; }
  const std::string& ServerUrl() const { return server_url_; }

  // Runs sql on a connection of the server's database outside the schema (administration:
  // terminating backends, reading catalogs).
  core::Result<void> Exec(const std::string& sql) {
    return admin_->Run([&](adapters::postgres::Connection& c) { return c.Exec(sql); });
  }
  // The first column of the first row of sql, as text; not_found when no row.
  core::Result<std::string> Text(const std::string& sql) {
    return admin_->Run([&](adapters::postgres::Connection& c) -> core::Result<std::string> {
      auto rows = c.Query(sql);
      if (!rows) return std::unexpected(rows.error());
      if (rows->Size() == 0) return core::Fail(core::ErrorCode::kNotFound, "no row: " + sql);
      return rows->Text(0, 0);
    });
  }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
  std::unique_ptr<adapters::postgres::PostgresDatabase> admin_;
};

}  // namespace kurz::testing
