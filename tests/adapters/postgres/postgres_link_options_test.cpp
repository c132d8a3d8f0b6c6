// PostgreSQL-only behaviour of the link options (migration 7): a database of schema version 6
// with links upgrades keeping them (new fields at their defaults, dedup still a constraint, 308
// allowed), and a corrupt options value reads as an error, not a crash.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/database.hpp"
#include "adapters/postgres/link_store.hpp"
#include "adapters/postgres/migrations.hpp"
#include "adapters/postgres/test_schema.hpp"

namespace kurz::testing {
namespace {

using adapters::postgres::Connection;
using adapters::postgres::PostgresDatabase;
using adapters::postgres::PostgresLinkStore;

class PostgresLinkOptionsTest : public ::testing::Test {
 protected:
  // The schema as a binary of schema `version` left it.
  std::unique_ptr<PostgresDatabase> OpenAtVersion(int version) {
    auto db = PostgresDatabase::Open(schema_.Url());
    EXPECT_TRUE(db) << Describe(db);
    if (!db) return nullptr;
    std::string sql =
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW());";
    for (const adapters::postgres::Migration& m : adapters::postgres::Migrations()) {
      if (m.version > version) break;
      sql += m.sql;
      sql += Numbered("; INSERT INTO schema_migrations (version, name) VALUES (", m.version) +
             ", 'old');";
    }
    EXPECT_TRUE(Exec(**db, sql));
    return std::move(*db);
  }

  static core::Result<void> Exec(PostgresDatabase& db, const std::string& sql) {
    return db.Run([&](Connection& c) { return c.Exec(sql); });
  }

  PostgresTestSchema schema_;
};

TEST_F(PostgresLinkOptionsTest, AVersion6DatabaseUpgradesKeepingItsLinks) {
  auto db = OpenAtVersion(6);
  ASSERT_TRUE(db);
  ASSERT_EQ(*db->SchemaVersion(), 6);
  ASSERT_TRUE(
      Exec(*db,
           "INSERT INTO users (id, email) VALUES (1, 'a@x');"
           "INSERT INTO urls (short_code, original_url, user_id, created_at, is_custom,"
           " redirect_type, click_count, metadata) VALUES"
           " ('old1', 'https://example.com/1', 1, to_timestamp(10), false, 301, 7,"
           " '{\"k\":1}'),"
           " ('old2', 'https://example.com/2', 1, to_timestamp(20), true, 307, 0, '{}');"
           "INSERT INTO urls (short_code, original_url, user_id, created_at, deleted_at)"
           " VALUES ('old3', 'https://example.com/1', 1, to_timestamp(5), to_timestamp(6))"));

  auto migrated = db->Migrate();
  ASSERT_TRUE(migrated) << Describe(migrated);
  EXPECT_EQ(*migrated, static_cast<int>(adapters::postgres::Migrations().size()) - 6);

  PostgresLinkStore links(*db);
  auto old1 = links.Find("old1");
  ASSERT_TRUE(old1) << Describe(old1);
  EXPECT_EQ(old1->created_at, 10 * core::kMicrosPerSecond);
  EXPECT_EQ(old1->click_count, 7);
  EXPECT_EQ(old1->metadata_json, "{\"k\":1}");
  EXPECT_EQ(old1->title, "");
  EXPECT_TRUE(old1->tags.empty());
  EXPECT_FALSE(old1->forward_query);
  EXPECT_FALSE(old1->max_clicks);
  EXPECT_EQ(old1->clicks_used, 0);
  EXPECT_FALSE(old1->HasRedirectOptions());
  auto old2 = links.Find("old2");
  ASSERT_TRUE(old2) << Describe(old2);
  EXPECT_TRUE(old2->is_custom);
  EXPECT_EQ(old2->redirect_type, core::RedirectType::k307);

  auto dup = links.FindDuplicate(1, "https://example.com/1", core::RedirectType::k301);
  ASSERT_TRUE(dup) << Describe(dup);
  ASSERT_TRUE(dup->has_value());
  EXPECT_EQ((*dup)->code, "old1");
  auto again = links.Insert(NewLink("new1", 1, 30, "https://example.com/1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  core::Link personal = NewLink("new2", 1, 30, "https://example.com/1");
  personal.password_hash = "$argon2id$h";
  EXPECT_TRUE(links.Insert(personal));
  core::Link permanent = NewLink("new3", 1, 40);
  permanent.redirect_type = core::RedirectType::k308;
  ASSERT_TRUE(links.Insert(permanent));
  EXPECT_EQ(links.Find("new3")->redirect_type, core::RedirectType::k308);
  EXPECT_FALSE(Exec(*db, "UPDATE urls SET clicks_used = -1 WHERE short_code = 'new3'"));
  EXPECT_FALSE(Exec(*db, "UPDATE urls SET redirect_type = 303 WHERE short_code = 'new3'"));
  auto listed = links.ListByOwner(1, std::nullopt, 10);
  ASSERT_TRUE(listed) << Describe(listed);
  EXPECT_EQ(listed->size(), 4u);
}

TEST_F(PostgresLinkOptionsTest, ACorruptOptionsValueIsAnInternalError) {
  auto db = OpenAtVersion(1000);
  ASSERT_TRUE(db);
  PostgresLinkStore links(*db);
  ASSERT_TRUE(Exec(*db, "INSERT INTO users (id, email) VALUES (1, 'a@x')"));
  core::Link link = NewLink("bad1", 1, 10);
  link.og = core::OpenGraph{"t", "d", "https://example.com/i.png"};
  ASSERT_TRUE(links.Insert(link));
  for (const char* corrupt :
       {"'[1,2]'", "'\"text\"'", "'{\"variants\":[{\"url\":5}]}'", "'{\"og\":{\"title\":1}}'"}) {
    ASSERT_TRUE(Exec(*db, std::string("UPDATE urls SET options = ") + corrupt));
    auto found = links.Find("bad1");
    ASSERT_FALSE(found) << corrupt;
    EXPECT_EQ(found.error().code, core::ErrorCode::kInternal) << corrupt;
  }
  ASSERT_TRUE(Exec(*db, "UPDATE urls SET options = NULL"));
  EXPECT_TRUE(links.Find("bad1"));
}

}  // namespace
}  // namespace kurz::testing
