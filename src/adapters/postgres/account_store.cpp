#include "adapters/postgres/account_store.hpp"

#include <string>

#include "adapters/common/sql_values.hpp"
#include "adapters/postgres/guard.hpp"

namespace kurz::adapters::postgres {
namespace {

using core::ErrorCode;
using core::Fail;

std::string UserColumns() { return "u.id, u.email, u.tier, u.status, " + MicrosOf("u.created_at"); }

// Permissions are stored as {"create": true, ...} and read back as the bit set.
std::string KeyColumns() {
  return "k.id, k.user_id, k.name, k.key_prefix, k.key_hash,"
         " coalesce(k.permissions->'create' = 'true', false)::int"
         " + 2 * coalesce(k.permissions->'read' = 'true', false)::int"
         " + 4 * coalesce(k.permissions->'delete' = 'true', false)::int"
         " + 8 * coalesce(k.permissions->'admin' = 'true', false)::int"
         " + 16 * coalesce(k.permissions->'update' = 'true', false)::int, " +
         MicrosOf("k.created_at") + ", " + MicrosOf("k.expires_at") + ", " +
         MicrosOf("k.revoked_at") + ", " + MicrosOf("k.last_used_at");
}
constexpr int kKeyColumnCount = 10;

core::User ReadUser(const Rows& rows, int row, int first) {
  core::User user;
  user.id = rows.Int(row, first);
  user.email = rows.Text(row, first + 1);
  user.tier = rows.Text(row, first + 2);
  user.status = ParseUserStatus(rows.View(row, first + 3));
  user.created_at = rows.Int(row, first + 4);
  return user;
}

core::ApiKey ReadKey(const Rows& rows, int row) {
  core::ApiKey key;
  key.id = rows.Int(row, 0);
  key.user_id = rows.Int(row, 1);
  key.name = rows.Text(row, 2);
  key.prefix = rows.Text(row, 3);
  key.key_hash = rows.Text(row, 4);
  key.permissions = static_cast<core::Permissions>(rows.Int(row, 5));
  key.created_at = rows.Int(row, 6);
  key.expires_at = rows.OptionalInt(row, 7);
  key.revoked_at = rows.OptionalInt(row, 8);
  key.last_used_at = rows.OptionalInt(row, 9);
  return key;
}

// Inserts key (for key.user_id) and returns it with its id; conflict when the hash is stored,
// not_found when the user does not exist.
Result<core::ApiKey> InsertKey(Connection& c, core::ApiKey key) {
  static const std::string sql =
      "INSERT INTO api_keys (user_id, key_hash, key_prefix, name, created_at, last_used_at,"
      " expires_at, revoked_at, permissions) VALUES ($1, $2, $3, $4, " +
      Ts(5) + ", " + Ts(6) + ", " + Ts(7) + ", " + Ts(8) + ", $9::jsonb) RETURNING id";
  Result<Rows> inserted =
      c.Query(sql, key.user_id, key.key_hash, key.prefix, key.name, key.created_at,
              key.last_used_at, key.expires_at, key.revoked_at, PermissionsJson(key.permissions));
  if (!inserted) {
    if (c.LastSqlState() == "23505") return Fail(ErrorCode::kConflict, "key hash already stored");
    if (c.LastSqlState() == "23503") return Fail(ErrorCode::kNotFound, "no such user");
    return std::unexpected(std::move(inserted.error()));
  }
  if (inserted->Size() != 1) return Fail(ErrorCode::kInternal, "INSERT ... RETURNING gave no row");
  key.id = inserted->Int(0, 0);
  return key;
}

}  // namespace

Result<std::pair<core::User, core::ApiKey>> PostgresAccountStore::CreateUser(
    const core::User& user, const core::ApiKey& first_key) {
  return Guard([&]() -> Result<std::pair<core::User, core::ApiKey>> {
    static const std::string sql =
        "INSERT INTO users (email, tier, status, created_at, updated_at) VALUES ($1, $2, $3, " +
        Ts(4) + ", " + Ts(4) + ") RETURNING id";
    return db_.Transaction([&](Connection& c) -> Result<std::pair<core::User, core::ApiKey>> {
      std::pair<core::User, core::ApiKey> created{user, first_key};
      Result<Rows> inserted =
          c.Query(sql, user.email, user.tier, UserStatusText(user.status), user.created_at);
      if (!inserted) {
        if (c.LastSqlState() == "23505") {
          return Fail(ErrorCode::kConflict, "email already registered");
        }
        if (c.LastSqlState() == "23514") return Fail(ErrorCode::kInvalidArgument, "unknown tier");
        return std::unexpected(std::move(inserted.error()));
      }
      if (inserted->Size() != 1) {
        return Fail(ErrorCode::kInternal, "INSERT ... RETURNING gave no row");
      }
      created.first.id = inserted->Int(0, 0);
      core::ApiKey key = first_key;
      key.user_id = created.first.id;
      Result<core::ApiKey> stored = InsertKey(c, std::move(key));
      if (!stored) return std::unexpected(std::move(stored.error()));
      created.second = std::move(*stored);
      return created;
    });
  });
}

Result<core::User> PostgresAccountStore::FindUser(std::int64_t id) {
  return Guard([&]() -> Result<core::User> {
    static const std::string sql = "SELECT " + UserColumns() + " FROM users AS u WHERE u.id = $1";
    return db_.Run([&](Connection& c) -> Result<core::User> {
      Result<Rows> found = c.Query(sql, id);
      if (!found) return std::unexpected(std::move(found.error()));
      if (found->Size() == 0) return Fail(ErrorCode::kNotFound, "no such user");
      return ReadUser(*found, 0, 0);
    });
  });
}

Result<std::vector<core::User>> PostgresAccountStore::ListUsers() {
  return Guard([&]() -> Result<std::vector<core::User>> {
    static const std::string sql =
        "SELECT " + UserColumns() + " FROM users AS u ORDER BY u.created_at, u.id";
    return db_.Run([&](Connection& c) -> Result<std::vector<core::User>> {
      Result<Rows> rows = c.Query(sql);
      if (!rows) return std::unexpected(std::move(rows.error()));
      std::vector<core::User> users;
      users.reserve(static_cast<std::size_t>(rows->Size()));
      for (int i = 0; i < rows->Size(); ++i) users.push_back(ReadUser(*rows, i, 0));
      return users;
    });
  });
}

Result<core::User> PostgresAccountStore::SetUserStatus(std::int64_t id, core::UserStatus status) {
  return Guard([&]() -> Result<core::User> {
    static const std::string sql =
        "UPDATE users AS u SET status = $2, updated_at = NOW() WHERE u.id = $1 RETURNING " +
        UserColumns();
    return db_.Run([&](Connection& c) -> Result<core::User> {
      Result<Rows> updated = c.Query(sql, id, UserStatusText(status));
      if (!updated) return std::unexpected(std::move(updated.error()));
      if (updated->Size() == 0) return Fail(ErrorCode::kNotFound, "no such user");
      return ReadUser(*updated, 0, 0);
    });
  });
}

Result<std::int64_t> PostgresAccountStore::CountUsers() {
  return Guard([&]() -> Result<std::int64_t> {
    return db_.Run([&](Connection& c) -> Result<std::int64_t> {
      Result<Rows> count = c.Query("SELECT count(*) FROM users");
      if (!count) return std::unexpected(std::move(count.error()));
      return count->Int(0, 0);
    });
  });
}

Result<core::ApiKey> PostgresAccountStore::CreateKey(const core::ApiKey& key) {
  return Guard([&]() -> Result<core::ApiKey> {
    return db_.Run([&](Connection& c) { return InsertKey(c, key); });
  });
}

Result<std::vector<core::ApiKey>> PostgresAccountStore::ListKeys(std::int64_t user_id) {
  return Guard([&]() -> Result<std::vector<core::ApiKey>> {
    static const std::string sql = "SELECT " + KeyColumns() +
                                   " FROM api_keys AS k WHERE k.user_id = $1"
                                   " ORDER BY k.created_at, k.id";
    return db_.Run([&](Connection& c) -> Result<std::vector<core::ApiKey>> {
      Result<Rows> rows = c.Query(sql, user_id);
      if (!rows) return std::unexpected(std::move(rows.error()));
      std::vector<core::ApiKey> keys;
      keys.reserve(static_cast<std::size_t>(rows->Size()));
      for (int i = 0; i < rows->Size(); ++i) keys.push_back(ReadKey(*rows, i));
      return keys;
    });
  });
}

Result<void> PostgresAccountStore::RevokeKey(std::int64_t key_id, std::int64_t user_id,
                                             core::Micros at) {
  return Guard([&]() -> Result<void> {
    static const std::string sql = "UPDATE api_keys SET revoked_at = " + Ts(3) +
                                   " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
    return db_.Run([&](Connection& c) -> Result<void> {
      Result<Rows> revoked = c.Query(sql, key_id, user_id, at);
      if (!revoked) return std::unexpected(std::move(revoked.error()));
      if (revoked->Affected() == 0) return Fail(ErrorCode::kNotFound, "no such key");
      return {};
    });
  });
}

Result<core::KeyOwner> PostgresAccountStore::FindKeyByHash(std::string_view key_hash) {
  return Guard([&]() -> Result<core::KeyOwner> {
    static const std::string sql =
        "SELECT " + KeyColumns() + ", " + UserColumns() +
        " FROM api_keys AS k JOIN users AS u ON u.id = k.user_id WHERE k.key_hash = $1";
    return db_.Run([&](Connection& c) -> Result<core::KeyOwner> {
      Result<Rows> found = c.Query(sql, key_hash);
      if (!found) return std::unexpected(std::move(found.error()));
      if (found->Size() == 0) return Fail(ErrorCode::kNotFound, "no such key");
      return core::KeyOwner{ReadKey(*found, 0), ReadUser(*found, 0, kKeyColumnCount)};
    });
  });
}

}  // namespace kurz::adapters::postgres
