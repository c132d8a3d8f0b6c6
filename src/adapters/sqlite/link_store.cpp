#include "adapters/sqlite/link_store.hpp"

#include <limits>
#include <string>

#include "adapters/common/sql_values.hpp"
#include "adapters/sqlite/guard.hpp"

namespace kurz::adapters::sqlite {
namespace {

using core::ErrorCode;
using core::Fail;

// owner_suspended: the owner is not active (suspended, or deleted by hand in the database).
constexpr std::string_view kSelectLinks =
    "SELECT u.short_code, u.original_url, u.user_id, u.api_key_id, u.created_at, u.expires_at,"
    " u.deleted_at, u.is_custom, u.redirect_type, u.metadata, u.click_count,"
    " coalesce(o.status <> 'active', 0)"
    " FROM urls AS u LEFT JOIN users AS o ON o.id = u.user_id ";

const std::string& FindSql() {
  static const std::string sql = std::string(kSelectLinks) + "WHERE u.short_code = ?1";
  return sql;
}

// Served by the unique idx_urls_dedup: at most one row qualifies.
const std::string& FindDuplicateSql() {
  static const std::string sql =
      std::string(kSelectLinks) +
      "WHERE u.user_id IS ?1 AND u.original_url = ?2 AND u.deleted_at IS NULL"
      " AND u.redirect_type = ?3 AND u.is_custom = 0 AND u.expires_at IS NULL LIMIT 1";
  return sql;
}

// Both served by idx_urls_user_id_created, walked from the cursor on.
const std::string& ListFirstPageSql() {
  static const std::string sql = std::string(kSelectLinks) +
                                 "WHERE u.user_id IS ?1 AND u.deleted_at IS NULL"
                                 " ORDER BY u.created_at DESC, u.short_code DESC LIMIT ?2";
  return sql;
}

const std::string& ListAfterSql() {
  static const std::string sql =
      std::string(kSelectLinks) +
      "WHERE u.user_id IS ?1 AND u.deleted_at IS NULL AND (u.created_at, u.short_code) < (?3, ?4)"
      " ORDER BY u.created_at DESC, u.short_code DESC LIMIT ?2";
  return sql;
}

core::Link ReadLink(const Statement& row) {
  core::Link link;
  link.code = row.Text(0);
  link.url = row.Text(1);
  link.owner_id = row.OptionalInt(2).value_or(0);
  link.api_key_id = row.OptionalInt(3);
  link.created_at = row.Int(4);
  link.expires_at = row.OptionalInt(5);
  link.deleted_at = row.OptionalInt(6);
  link.is_custom = row.Int(7) != 0;
  link.redirect_type = ToRedirectType(row.Int(8));
  link.metadata_json = row.Text(9);
  link.click_count = row.Int(10);
  link.owner_suspended = row.Int(11) != 0;
  return link;
}

// Owner 0 means no owner: NULL in the table.
std::optional<std::int64_t> OwnerParam(std::int64_t owner_id) {
  if (owner_id == 0) return std::nullopt;
  return owner_id;
}

}  // namespace

Result<void> SqliteLinkStore::Insert(const core::Link& link) {
  return Guard([&]() -> Result<void> {
    return db_.Write([&link](Connection& c) -> Result<void> {
      Result<Statement> insert = c.Prepare(
          "INSERT INTO urls (short_code, original_url, user_id, api_key_id, created_at,"
          " updated_at, expires_at, deleted_at, is_custom, redirect_type, click_count, metadata)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
      if (!insert) return std::unexpected(std::move(insert.error()));
      insert->Bind(1, link.code)
          .Bind(2, link.url)
          .Bind(3, OwnerParam(link.owner_id))
          .Bind(4, link.api_key_id)
          .Bind(5, link.created_at)
          .Bind(6, link.expires_at)
          .Bind(7, link.deleted_at)
          .Bind(8, std::int64_t{link.is_custom ? 1 : 0})
          .Bind(9, static_cast<std::int64_t>(link.redirect_type))
          .Bind(10, link.click_count)
          .Bind(11, link.metadata_json);
      Result<void> done = insert->Run();
      if (done) return done;
      if (done.error().code == ErrorCode::kConflict) {
        return Fail(ErrorCode::kConflict, "short code already taken");
      }
      if (done.error().detail.find("FOREIGN KEY") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument, "owner or api key does not exist");
      }
      return done;
    });
  });
}

Result<core::Link> SqliteLinkStore::Find(std::string_view code) {
  return Guard([&]() -> Result<core::Link> {
    return db_.Read([code](Connection& c) -> Result<core::Link> {
      Result<Statement> find = c.Prepare(FindSql());
      if (!find) return std::unexpected(std::move(find.error()));
      find->Bind(1, code);
      Result<bool> row = find->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return Fail(ErrorCode::kNotFound, "no such link");
      return ReadLink(*find);
    });
  });
}

Result<std::optional<core::Link>> SqliteLinkStore::FindDuplicate(std::int64_t owner_id,
                                                                 std::string_view url,
                                                                 core::RedirectType type) {
  return Guard([&]() -> Result<std::optional<core::Link>> {
    return db_.Read([&](Connection& c) -> Result<std::optional<core::Link>> {
      Result<Statement> find = c.Prepare(FindDuplicateSql());
      if (!find) return std::unexpected(std::move(find.error()));
      find->Bind(1, OwnerParam(owner_id)).Bind(2, url).Bind(3, static_cast<std::int64_t>(type));
      Result<bool> row = find->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return std::optional<core::Link>();
      return std::optional<core::Link>(ReadLink(*find));
    });
  });
}

Result<std::vector<core::Link>> SqliteLinkStore::ListByOwner(
    std::int64_t owner_id, const std::optional<core::ListCursor>& after, int limit) {
  return Guard([&]() -> Result<std::vector<core::Link>> {
    std::vector<core::Link> links;
    if (limit <= 0) return links;
    return db_.Read([&](Connection& c) -> Result<std::vector<core::Link>> {
      Result<Statement> list = c.Prepare(after ? ListAfterSql() : ListFirstPageSql());
      if (!list) return std::unexpected(std::move(list.error()));
      list->Bind(1, OwnerParam(owner_id)).Bind(2, std::int64_t{limit});
      if (after) list->Bind(3, after->created_at).Bind(4, after->code);
      while (true) {
        Result<bool> row = list->Step();
        if (!row) return std::unexpected(std::move(row.error()));
        if (!*row) return links;
        links.push_back(ReadLink(*list));
      }
    });
  });
}

Result<void> SqliteLinkStore::SoftDelete(std::string_view code, std::int64_t owner_id,
                                         core::Micros at) {
  return Guard([&]() -> Result<void> {
    return db_.Write([&](Connection& c) -> Result<void> {
      Result<Statement> update = c.Prepare(
          "UPDATE urls SET deleted_at = ?3, updated_at = ?3"
          " WHERE short_code = ?1 AND user_id IS ?2 AND deleted_at IS NULL");
      if (!update) return std::unexpected(std::move(update.error()));
      update->Bind(1, code).Bind(2, OwnerParam(owner_id)).Bind(3, at);
      if (Result<void> done = update->Run(); !done) return done;
      if (c.Changes() == 0) return Fail(ErrorCode::kNotFound, "no such link");
      return {};
    });
  });
}

Result<std::uint64_t> SqliteLinkStore::LeaseCodeBlock(std::uint64_t count) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (count == 0 || count > kMax) return Fail(ErrorCode::kInvalidArgument, "bad block size");
  return Guard([&]() -> Result<std::uint64_t> {
    std::uint64_t first = 0;
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      Result<Statement> lease = c.Prepare(
          "UPDATE counters SET next_value = next_value + ?1"
          " WHERE name = 'link_code' AND next_value <= 9223372036854775807 - ?1"
          " RETURNING next_value - ?1");
      if (!lease) return std::unexpected(std::move(lease.error()));
      lease->Bind(1, static_cast<std::int64_t>(count));
      Result<bool> row = lease->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return Fail(ErrorCode::kInternal, "code counter missing or exhausted");
      first = static_cast<std::uint64_t>(lease->Int(0));
      return lease->Run();
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return first;
  });
}

}  // namespace kurz::adapters::sqlite
