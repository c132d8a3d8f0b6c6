#include "adapters/sqlite/account_store.hpp"

#include <chrono>
#include <string>

#include "adapters/common/sql_values.hpp"
#include "adapters/sqlite/guard.hpp"

namespace kurz::adapters::sqlite {
namespace {

using core::ErrorCode;
using core::Fail;

constexpr std::string_view kUserColumns = "u.id, u.email, u.tier, u.status, u.created_at";
// Permissions are stored as {"create":true,...} and read back as the bit set.
constexpr std::string_view kKeyColumns =
    "k.id, k.user_id, k.name, k.key_prefix, k.key_hash,"
    " (json_extract(k.permissions, '$.create') IS 1)"
    " + 2 * (json_extract(k.permissions, '$.read') IS 1)"
    " + 4 * (json_extract(k.permissions, '$.delete') IS 1)"
    " + 8 * (json_extract(k.permissions, '$.admin') IS 1)"
    " + 16 * (json_extract(k.permissions, '$.update') IS 1),"
    " k.created_at, k.expires_at, k.revoked_at, k.last_used_at";
constexpr int kKeyColumnCount = 10;

std::string Sql(std::initializer_list<std::string_view> parts) {
  std::string sql;
  for (std::string_view part : parts) sql += part;
  return sql;
}

core::User ReadUser(const Statement& row, int first) {
  core::User user;
  user.id = row.Int(first);
  user.email = row.Text(first + 1);
  user.tier = row.Text(first + 2);
  user.status = ParseUserStatus(row.Text(first + 3));
  user.created_at = row.Int(first + 4);
  return user;
}

core::ApiKey ReadKey(const Statement& row) {
  core::ApiKey key;
  key.id = row.Int(0);
  key.user_id = row.Int(1);
  key.name = row.Text(2);
  key.prefix = row.Text(3);
  key.key_hash = row.Text(4);
  key.permissions = static_cast<core::Permissions>(row.Int(5));
  key.created_at = row.Int(6);
  key.expires_at = row.OptionalInt(7);
  key.revoked_at = row.OptionalInt(8);
  key.last_used_at = row.OptionalInt(9);
  return key;
}

// Inserts key (for key.user_id) and returns it with its id; conflict when the hash is stored.
Result<core::ApiKey> InsertKey(Connection& c, core::ApiKey key) {
  Result<Statement> insert = c.Prepare(
      "INSERT INTO api_keys (user_id, key_hash, key_prefix, name, created_at, last_used_at,"
      " expires_at, revoked_at, permissions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
      " RETURNING id");
  if (!insert) return std::unexpected(std::move(insert.error()));
  insert->Bind(1, key.user_id)
      .Bind(2, key.key_hash)
      .Bind(3, key.prefix)
      .Bind(4, key.name)
      .Bind(5, key.created_at)
      .Bind(6, key.last_used_at)
      .Bind(7, key.expires_at)
      .Bind(8, key.revoked_at)
      .Bind(9, PermissionsJson(key.permissions));
  Result<bool> row = insert->Step();
  if (!row) {
    if (row.error().code == ErrorCode::kConflict) {
      return Fail(ErrorCode::kConflict, "key hash already stored");
    }
    return std::unexpected(std::move(row.error()));
  }
  if (!*row) return Fail(ErrorCode::kInternal, "INSERT ... RETURNING gave no row");
  key.id = insert->Int(0);
  if (Result<void> done = insert->Run(); !done) return std::unexpected(std::move(done.error()));
  return key;
}

}  // namespace

Result<std::pair<core::User, core::ApiKey>> SqliteAccountStore::CreateUser(
    const core::User& user, const core::ApiKey& first_key) {
  return Guard([&]() -> Result<std::pair<core::User, core::ApiKey>> {
    std::pair<core::User, core::ApiKey> created{user, first_key};
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      Result<Statement> insert = c.Prepare(
          "INSERT INTO users (email, tier, status, created_at, updated_at)"
          " VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id");
      if (!insert) return std::unexpected(std::move(insert.error()));
      insert->Bind(1, user.email)
          .Bind(2, user.tier)
          .Bind(3, UserStatusText(user.status))
          .Bind(4, user.created_at);
      Result<bool> row = insert->Step();
      if (!row) {
        if (row.error().code == ErrorCode::kConflict) {
          return Fail(ErrorCode::kConflict, "email already registered");
        }
        if (row.error().code == ErrorCode::kInvalidArgument) {
          return Fail(ErrorCode::kInvalidArgument, "unknown tier");
        }
        return std::unexpected(std::move(row.error()));
      }
      if (!*row) return Fail(ErrorCode::kInternal, "INSERT ... RETURNING gave no row");
      created.first.id = insert->Int(0);
      if (Result<void> r = insert->Run(); !r) return r;
      core::ApiKey key = first_key;
      key.user_id = created.first.id;
      Result<core::ApiKey> stored = InsertKey(c, std::move(key));
      if (!stored) return std::unexpected(std::move(stored.error()));
      created.second = std::move(*stored);
      return {};
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return created;
  });
}

Result<core::User> SqliteAccountStore::FindUser(std::int64_t id) {
  return Guard([&]() -> Result<core::User> {
    return db_.Read([id](Connection& c) -> Result<core::User> {
      static const std::string sql =
          Sql({"SELECT ", kUserColumns, " FROM users AS u WHERE u.id = ?1"});
      Result<Statement> find = c.Prepare(sql);
      if (!find) return std::unexpected(std::move(find.error()));
      find->Bind(1, id);
      Result<bool> row = find->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return Fail(ErrorCode::kNotFound, "no such user");
      return ReadUser(*find, 0);
    });
  });
}

Result<std::vector<core::User>> SqliteAccountStore::ListUsers() {
  return Guard([&]() -> Result<std::vector<core::User>> {
    return db_.Read([](Connection& c) -> Result<std::vector<core::User>> {
      static const std::string sql =
          Sql({"SELECT ", kUserColumns, " FROM users AS u ORDER BY u.created_at, u.id"});
      Result<Statement> list = c.Prepare(sql);
      if (!list) return std::unexpected(std::move(list.error()));
      std::vector<core::User> users;
      while (true) {
        Result<bool> row = list->Step();
        if (!row) return std::unexpected(std::move(row.error()));
        if (!*row) return users;
        users.push_back(ReadUser(*list, 0));
      }
    });
  });
}

Result<core::User> SqliteAccountStore::SetUserStatus(std::int64_t id, core::UserStatus status) {
  return Guard([&]() -> Result<core::User> {
    core::User user;
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      Result<Statement> update = c.Prepare(
          "UPDATE users SET status = ?2, updated_at = ?3 WHERE id = ?1"
          " RETURNING id, email, tier, status, created_at");
      if (!update) return std::unexpected(std::move(update.error()));
      update->Bind(1, id).Bind(2, UserStatusText(status)).Bind(3, db_.Now());
      Result<bool> row = update->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return Fail(ErrorCode::kNotFound, "no such user");
      user = ReadUser(*update, 0);
      return update->Run();
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return user;
  });
}

Result<std::int64_t> SqliteAccountStore::CountUsers() {
  return Guard([&]() -> Result<std::int64_t> {
    return db_.Read([](Connection& c) -> Result<std::int64_t> {
      Result<Statement> count = c.Prepare("SELECT count(*) FROM users");
      if (!count) return std::unexpected(std::move(count.error()));
      Result<bool> row = count->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      return *row ? count->Int(0) : 0;
    });
  });
}

Result<core::ApiKey> SqliteAccountStore::CreateKey(const core::ApiKey& key) {
  return Guard([&]() -> Result<core::ApiKey> {
    core::ApiKey created;
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      Result<Statement> user = c.Prepare("SELECT 1 FROM users WHERE id = ?1");
      if (!user) return std::unexpected(std::move(user.error()));
      user->Bind(1, key.user_id);
      Result<bool> row = user->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return Fail(ErrorCode::kNotFound, "no such user");
      Result<core::ApiKey> stored = InsertKey(c, key);
      if (!stored) return std::unexpected(std::move(stored.error()));
      created = std::move(*stored);
      return {};
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return created;
  });
}

Result<std::vector<core::ApiKey>> SqliteAccountStore::ListKeys(std::int64_t user_id) {
  return Guard([&]() -> Result<std::vector<core::ApiKey>> {
    return db_.Read([user_id](Connection& c) -> Result<std::vector<core::ApiKey>> {
      static const std::string sql = Sql({"SELECT ", kKeyColumns,
                                          " FROM api_keys AS k WHERE k.user_id = ?1"
                                          " ORDER BY k.created_at, k.id"});
      Result<Statement> list = c.Prepare(sql);
      if (!list) return std::unexpected(std::move(list.error()));
      list->Bind(1, user_id);
      std::vector<core::ApiKey> keys;
      while (true) {
        Result<bool> row = list->Step();
        if (!row) return std::unexpected(std::move(row.error()));
        if (!*row) return keys;
        keys.push_back(ReadKey(*list));
      }
    });
  });
}

Result<void> SqliteAccountStore::RevokeKey(std::int64_t key_id, std::int64_t user_id,
                                           core::Micros at) {
  return Guard([&]() -> Result<void> {
    return db_.Write([&](Connection& c) -> Result<void> {
      Result<Statement> revoke = c.Prepare(
          "UPDATE api_keys SET revoked_at = ?3"
          " WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL");
      if (!revoke) return std::unexpected(std::move(revoke.error()));
      revoke->Bind(1, key_id).Bind(2, user_id).Bind(3, at);
      if (Result<void> r = revoke->Run(); !r) return r;
      if (c.Changes() == 0) return Fail(ErrorCode::kNotFound, "no such key");
      return {};
    });
  });
}

Result<core::KeyOwner> SqliteAccountStore::FindKeyByHash(std::string_view key_hash) {
  return Guard([&]() -> Result<core::KeyOwner> {
    return db_.Read([key_hash](Connection& c) -> Result<core::KeyOwner> {
      static const std::string sql =
          Sql({"SELECT ", kKeyColumns, ", ", kUserColumns,
               " FROM api_keys AS k JOIN users AS u ON u.id = k.user_id WHERE k.key_hash = ?1"});
      Result<Statement> find = c.Prepare(sql);
      if (!find) return std::unexpected(std::move(find.error()));
      find->Bind(1, key_hash);
      Result<bool> row = find->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return Fail(ErrorCode::kNotFound, "no such key");
      return core::KeyOwner{ReadKey(*find), ReadUser(*find, kKeyColumnCount)};
    });
  });
}

}  // namespace kurz::adapters::sqlite
