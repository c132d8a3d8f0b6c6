// SQLite-only behaviour of the link options (migration 7): a database of schema version 6 with
// links upgrades keeping them (new fields at their defaults, every index rebuilt, dedup still a
// constraint), and a corrupt options or tags value reads as an error, not a crash.
#include <string>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "adapters/sqlite/database.hpp"
#include "adapters/sqlite/link_store.hpp"
#include "adapters/sqlite/migrations.hpp"
#include "adapters/temp_dir.hpp"

namespace kurz::testing {
namespace {

using adapters::sqlite::Connection;
using adapters::sqlite::SqliteDatabase;
using adapters::sqlite::SqliteLinkStore;

core::Result<void> Exec(SqliteDatabase& db, std::string sql) {
  return db.Write([sql = std::move(sql)](Connection& c) { return c.Exec(sql); });
}

core::Result<std::string> Text(SqliteDatabase& db, const std::string& sql) {
  return db.Read([&](Connection& c) -> core::Result<std::string> {
    auto statement = c.Prepare(sql);
    if (!statement) return std::unexpected(statement.error());
    std::string text;
    while (true) {
      auto row = statement->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) return text;
      text += statement->Text(0) + "\n";
    }
  });
}

class SqliteLinkOptionsTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteDatabase> OpenAtVersion(int version) {
    auto db = SqliteDatabase::Open(dir_.File("kurz.db"));
    EXPECT_TRUE(db) << Describe(db);
    if (!db) return nullptr;
    std::string sql =
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT "
        "NULL);";
    for (const adapters::sqlite::Migration& m : adapters::sqlite::Migrations()) {
      if (m.version > version) break;
      sql += m.sql;
      sql += Numbered("; INSERT INTO schema_migrations VALUES (", m.version) + ", 0);";
    }
    EXPECT_TRUE(Exec(**db, sql));
    return std::move(*db);
  }

  TempDir dir_;
};

TEST_F(SqliteLinkOptionsTest, AVersion6DatabaseUpgradesKeepingItsLinks) {
  auto db = OpenAtVersion(6);
  ASSERT_TRUE(db);
  ASSERT_EQ(*db->SchemaVersion(), 6);
  ASSERT_TRUE(Exec(*db,
                   "INSERT INTO users (id, email, created_at, updated_at) VALUES (1, 'a@x', 0, 0);"
                   "INSERT INTO urls (short_code, original_url, user_id, created_at, updated_at,"
                   " is_custom, redirect_type, click_count, metadata) VALUES"
                   " ('old1', 'https://example.com/1', 1, 10, 10, 0, 301, 7, '{\"k\":1}'),"
                   " ('old2', 'https://example.com/2', 1, 20, 20, 1, 307, 0, '{}');"
                   "INSERT INTO urls (short_code, original_url, user_id, created_at, updated_at,"
                   " deleted_at) VALUES ('old3', 'https://example.com/1', 1, 5, 5, 6)"));

  auto migrated = db->Migrate();
  ASSERT_TRUE(migrated) << Describe(migrated);
  EXPECT_EQ(*migrated, static_cast<int>(adapters::sqlite::Migrations().size()) - 6);

  SqliteLinkStore links(*db);
  auto old1 = links.Find("old1");
  ASSERT_TRUE(old1) << Describe(old1);
  EXPECT_EQ(old1->url, "https://example.com/1");
  EXPECT_EQ(old1->owner_id, 1);
  EXPECT_EQ(old1->created_at, 10);
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
  EXPECT_TRUE(links.Find("old3")->deleted_at);

  // Deduplication is still a constraint over the old links; personal links are left out of it.
  auto dup = links.FindDuplicate(1, "https://example.com/1", core::RedirectType::k301);
  ASSERT_TRUE(dup) << Describe(dup);
  ASSERT_TRUE(dup->has_value());
  EXPECT_EQ((*dup)->code, "old1");
  auto again = links.Insert(NewLink("new1", 1, 30, "https://example.com/1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  core::Link personal = NewLink("new2", 1, 30, "https://example.com/1");
  personal.max_clicks = 1;
  EXPECT_TRUE(links.Insert(personal));
  // 308 is allowed now; the budget cannot go negative.
  core::Link permanent = NewLink("new3", 1, 40);
  permanent.redirect_type = core::RedirectType::k308;
  ASSERT_TRUE(links.Insert(permanent));
  EXPECT_EQ(links.Find("new3")->redirect_type, core::RedirectType::k308);
  EXPECT_FALSE(Exec(*db, "UPDATE urls SET clicks_used = -1 WHERE short_code = 'new3'"));
  EXPECT_FALSE(Exec(*db, "UPDATE urls SET redirect_type = 303 WHERE short_code = 'new3'"));
  // A listing still reads the old links (the rebuilt index), newest first.
  auto listed = links.ListByOwner(1, std::nullopt, 10);
  ASSERT_TRUE(listed) << Describe(listed);
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_EQ(listed->back().code, "old1");

  // Every index of urls is there again, the dedup one with the personal condition.
  auto indexes = Text(*db,
                      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'urls'"
                      " AND sql IS NOT NULL ORDER BY name");
  ASSERT_TRUE(indexes) << Describe(indexes);
  EXPECT_EQ(*indexes, "idx_urls_dedup\nidx_urls_expires_at\nidx_urls_user_id_created\n");
  auto dedup = Text(*db, "SELECT sql FROM sqlite_master WHERE name = 'idx_urls_dedup'");
  ASSERT_TRUE(dedup) << Describe(dedup);
  EXPECT_NE(dedup->find("personal = 0"), std::string::npos) << *dedup;
  auto fks = Text(*db, "SELECT count(*) FROM pragma_foreign_key_check");
  ASSERT_TRUE(fks) << Describe(fks);
  EXPECT_EQ(*fks, "0\n");
}

TEST_F(SqliteLinkOptionsTest, ACorruptOptionsOrTagsValueIsAnInternalError) {
  auto db = OpenAtVersion(1000);
  ASSERT_TRUE(db);
  SqliteLinkStore links(*db);
  ASSERT_TRUE(
      Exec(*db, "INSERT INTO users (id, email, created_at, updated_at) VALUES (1, 'a@x', 0, 0)"));
  core::Link link = NewLink("bad1", 1, 10);
  link.variants = {core::Variant{"https://a.example/", 1}, core::Variant{"https://b.example/", 2}};
  ASSERT_TRUE(links.Insert(link));
  for (const char* corrupt : {"'not json'", "'[1,2]'", "'{\"variants\":[{\"url\":5}]}'",
                              "'{\"rules\":[{\"url\":\"u\"}]}'", "'{\"og\":{\"title\":1}}'"}) {
    ASSERT_TRUE(Exec(*db, std::string("UPDATE urls SET options = ") + corrupt));
    auto found = links.Find("bad1");
    ASSERT_FALSE(found) << corrupt;
    EXPECT_EQ(found.error().code, core::ErrorCode::kInternal) << corrupt;
    auto listed = links.ListByOwner(1, std::nullopt, 10);
    ASSERT_FALSE(listed) << corrupt;
    EXPECT_EQ(listed.error().code, core::ErrorCode::kInternal) << corrupt;
  }
  ASSERT_TRUE(Exec(*db, "UPDATE urls SET options = NULL"));
  EXPECT_TRUE(links.Find("bad1"));
}

}  // namespace
}  // namespace kurz::testing
