#include "adapters/sqlite/link_store.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

#include "adapters/common/link_options_json.hpp"
#include "adapters/common/sql_values.hpp"
#include "adapters/sqlite/guard.hpp"

namespace kurz::adapters::sqlite {
namespace {

using core::ErrorCode;
using core::Fail;

// owner_suspended: the owner is not active (suspended, or deleted by hand in the database). The
// tags come as one JSON array of [position, tag] (SQLite 3.40 has no ORDER BY inside an
// aggregate, so DecodeTags orders them).
constexpr std::string_view kSelectLinks =
    "SELECT u.short_code, u.original_url, u.user_id, u.api_key_id, u.created_at, u.expires_at,"
    " u.deleted_at, u.is_custom, u.redirect_type, u.metadata, u.click_count,"
    " coalesce(o.status <> 'active', 0), u.title, u.forward_query, u.options, u.max_clicks,"
    " u.clicks_used, (SELECT json_group_array(json_array(t.position, t.tag)) FROM url_tags AS t"
    " WHERE t.short_code = u.short_code)"
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
      " AND u.redirect_type = ?3 AND u.is_custom = 0 AND u.expires_at IS NULL AND u.personal = 0"
      " LIMIT 1";
  return sql;
}

// The listing's statement: ?1 owner, ?2 limit, ?3..?5 the cursor (created_at, code,
// click_count), ?6 the text pattern, ?7... the tag keys. kNewest and kOldest walk
// idx_urls_user_id_created (forwards or backwards); kMostClicks sorts the owner's matching links
// (no index on click_count: the click writer changes it all the time). A text filter checks each
// of the owner's links (LIKE cannot use an index for a substring). Tags: one primary-key probe of
// url_tags per link and tag.
std::string SearchSql(const core::LinkQuery& query, std::size_t tags) {
  std::string sql = std::string(kSelectLinks) + "WHERE u.user_id IS ?1 AND u.deleted_at IS NULL";
  if (query.after) {
    switch (query.sort) {
      case core::LinkSort::kNewest:
        sql += " AND (u.created_at, u.short_code) < (?3, ?4)";
        break;
      case core::LinkSort::kOldest:
        sql += " AND (u.created_at, u.short_code) > (?3, ?4)";
        break;
      case core::LinkSort::kMostClicks:
        sql += " AND (u.click_count, u.created_at, u.short_code) < (?5, ?3, ?4)";
        break;
    }
  }
  if (!query.text.empty()) {
    sql +=
        " AND (u.short_code LIKE ?6 ESCAPE '\\' OR u.original_url LIKE ?6 ESCAPE '\\'"
        " OR u.title LIKE ?6 ESCAPE '\\')";
  }
  for (std::size_t i = 0; i < tags; ++i) {
    sql +=
        " AND EXISTS (SELECT 1 FROM url_tags AS t WHERE t.short_code = u.short_code AND"
        " t.tag_key = ?" +
        std::to_string(7 + i) + ")";
  }
  switch (query.sort) {
    case core::LinkSort::kNewest:
      sql += " ORDER BY u.created_at DESC, u.short_code DESC";
      break;
    case core::LinkSort::kOldest:
      sql += " ORDER BY u.created_at ASC, u.short_code ASC";
      break;
    case core::LinkSort::kMostClicks:
      sql += " ORDER BY u.click_count DESC, u.created_at DESC, u.short_code DESC";
      break;
  }
  return sql + " LIMIT ?2";
}

Result<core::Link> ReadLink(const Statement& row) {
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
  link.title = row.Text(12);
  link.forward_query = row.Int(13) != 0;
  if (Result<void> options = DecodeLinkOptions(row.IsNull(14) ? "" : row.Text(14), link);
      !options) {
    return std::unexpected(std::move(options.error()));
  }
  link.max_clicks = row.OptionalInt(15);
  link.clicks_used = row.Int(16);
  if (Result<void> tags = DecodeTags(row.IsNull(17) ? "" : row.Text(17), link); !tags) {
    return std::unexpected(std::move(tags.error()));
  }
  return link;
}

// Owner 0 means no owner: NULL in the table.
std::optional<std::int64_t> OwnerParam(std::int64_t owner_id) {
  if (owner_id == 0) return std::nullopt;
  return owner_id;
}

std::int64_t Flag(bool value) { return value ? 1 : 0; }

// Binds the options column: NULL when the link has none.
void BindOptions(Statement& statement, int index, const core::Link& link) {
  if (HasNoStoredOptions(link)) {
    statement.BindNull(index);
  } else {
    statement.Bind(index, EncodeLinkOptions(link));
  }
}

// Writes link's tags (the link's rows must have none), in their order; a tag whose key an
// earlier one has is left out (the first spelling is kept).
Result<void> InsertTags(Connection& c, const core::Link& link) {
  if (link.tags.empty()) return {};
  std::unordered_set<std::string> seen;
  std::int64_t position = 0;
  for (const std::string& tag : link.tags) {
    std::string key = TagKey(tag);
    if (!seen.insert(key).second) continue;
    Result<Statement> insert = c.Prepare(
        "INSERT INTO url_tags (short_code, position, tag, tag_key, user_id)"
        " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!insert) return std::unexpected(std::move(insert.error()));
    insert->Bind(1, link.code)
        .Bind(2, position++)
        .Bind(3, tag)
        .Bind(4, key)
        .Bind(5, OwnerParam(link.owner_id));
    if (Result<void> done = insert->Run(); !done) return done;
  }
  return {};
}

// Insert's work on the writer connection, inside the caller's savepoint.
Result<void> InsertOne(Connection& c, const core::Link& link) {
  Result<Statement> insert = c.Prepare(
      "INSERT INTO urls (short_code, original_url, user_id, api_key_id, created_at,"
      " updated_at, expires_at, deleted_at, is_custom, redirect_type, click_count, metadata,"
      " title, forward_query, options, max_clicks, clicks_used, personal)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
  if (!insert) return std::unexpected(std::move(insert.error()));
  insert->Bind(1, link.code)
      .Bind(2, link.url)
      .Bind(3, OwnerParam(link.owner_id))
      .Bind(4, link.api_key_id)
      .Bind(5, link.created_at)
      .Bind(6, link.expires_at)
      .Bind(7, link.deleted_at)
      .Bind(8, Flag(link.is_custom))
      .Bind(9, static_cast<std::int64_t>(link.redirect_type))
      .Bind(10, link.click_count)
      .Bind(11, link.metadata_json)
      .Bind(12, link.title)
      .Bind(13, Flag(link.forward_query))
      .Bind(15, link.max_clicks)
      .Bind(16, link.clicks_used)
      .Bind(17, Flag(link.IsPersonal()));
  BindOptions(*insert, 14, link);
  Result<void> done = insert->Run();
  if (!done) {
    if (done.error().code == ErrorCode::kConflict) {
      return Fail(ErrorCode::kConflict, "short code already taken");
    }
    if (done.error().detail.find("FOREIGN KEY") != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, "owner or api key does not exist");
    }
    return done;
  }
  return InsertTags(c, link);
}

Result<void> Exec(Connection& c, std::string_view sql) {
  Result<Statement> statement = c.Prepare(sql);
  if (!statement) return std::unexpected(std::move(statement.error()));
  return statement->Run();
}

}  // namespace

Result<void> SqliteLinkStore::Insert(const core::Link& link) {
  return Guard([&]() -> Result<void> {
    return db_.Write([&link](Connection& c) -> Result<void> { return InsertOne(c, link); });
  });
}

Result<std::vector<Result<void>>> SqliteLinkStore::InsertMany(std::span<const core::Link> links) {
  return Guard([&]() -> Result<std::vector<Result<void>>> {
    std::vector<Result<void>> results;
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      results.clear();
      results.reserve(links.size());
      for (const core::Link& link : links) {
        if (Result<void> begun = Exec(c, "SAVEPOINT item"); !begun) return begun;
        Result<void> inserted = InsertOne(c, link);
        if (!inserted) {
          // A constraint failure is this link's; anything else (I/O, a full disk) is the call's.
          const ErrorCode code = inserted.error().code;
          if (code != ErrorCode::kConflict && code != ErrorCode::kInvalidArgument) {
            return inserted;
          }
          if (Result<void> undone = Exec(c, "ROLLBACK TO item"); !undone) return undone;
        }
        if (Result<void> released = Exec(c, "RELEASE item"); !released) return released;
        results.push_back(std::move(inserted));
      }
      return {};
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return results;
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
      Result<core::Link> link = ReadLink(*find);
      if (!link) return std::unexpected(std::move(link.error()));
      return std::optional<core::Link>(std::move(*link));
    });
  });
}

Result<std::vector<core::Link>> SqliteLinkStore::SearchByOwner(std::int64_t owner_id,
                                                               const core::LinkQuery& query) {
  return Guard([&]() -> Result<std::vector<core::Link>> {
    std::vector<core::Link> links;
    if (query.limit <= 0) return links;
    std::vector<std::string> keys;
    for (const std::string& tag : query.tags) {
      std::string key = TagKey(tag);
      if (std::ranges::find(keys, key) == keys.end()) keys.push_back(std::move(key));
    }
    const std::string sql = SearchSql(query, keys.size());
    return db_.Read([&](Connection& c) -> Result<std::vector<core::Link>> {
      Result<Statement> list = c.Prepare(sql);
      if (!list) return std::unexpected(std::move(list.error()));
      list->Bind(1, OwnerParam(owner_id)).Bind(2, std::int64_t{query.limit});
      if (query.after) {
        list->Bind(3, query.after->created_at).Bind(4, query.after->code);
        if (query.sort == core::LinkSort::kMostClicks) list->Bind(5, query.after->click_count);
      }
      if (!query.text.empty()) list->Bind(6, ContainsPattern(query.text));
      for (std::size_t i = 0; i < keys.size(); ++i) {
        list->Bind(static_cast<int>(7 + i), keys[i]);
      }
      while (true) {
        Result<bool> row = list->Step();
        if (!row) return std::unexpected(std::move(row.error()));
        if (!*row) return links;
        Result<core::Link> link = ReadLink(*list);
        if (!link) return std::unexpected(std::move(link.error()));
        links.push_back(std::move(*link));
      }
    });
  });
}

Result<std::vector<core::TagCount>> SqliteLinkStore::ListTags(std::int64_t owner_id) {
  return Guard([&]() -> Result<std::vector<core::TagCount>> {
    return db_.Read([&](Connection& c) -> Result<std::vector<core::TagCount>> {
      // Served by idx_url_tags_user_tag, each link's state by the primary key of urls. The
      // spelling shown is the one of the oldest link carrying the tag (min() picks that row's
      // bare column in SQLite).
      Result<Statement> list = c.Prepare(
          "SELECT t.tag, count(*), min(u.created_at) FROM url_tags AS t"
          " JOIN urls AS u ON u.short_code = t.short_code"
          " WHERE t.user_id IS ?1 AND u.deleted_at IS NULL"
          " GROUP BY t.tag_key ORDER BY count(*) DESC, t.tag_key ASC");
      if (!list) return std::unexpected(std::move(list.error()));
      list->Bind(1, OwnerParam(owner_id));
      std::vector<core::TagCount> tags;
      while (true) {
        Result<bool> row = list->Step();
        if (!row) return std::unexpected(std::move(row.error()));
        if (!*row) return tags;
        tags.push_back(core::TagCount{.tag = list->Text(0), .links = list->Int(1)});
      }
    });
  });
}

Result<void> SqliteLinkStore::Update(const core::Link& link) {
  return Guard([&]() -> Result<void> {
    const core::Micros now = db_.Now();
    return db_.Write([&](Connection& c) -> Result<void> {
      Result<Statement> update = c.Prepare(
          "UPDATE urls SET original_url = ?3, redirect_type = ?4, expires_at = ?5, metadata = ?6,"
          " title = ?7, forward_query = ?8, options = ?9, max_clicks = ?10, personal = ?11,"
          " updated_at = ?12"
          " WHERE short_code = ?1 AND user_id IS ?2 AND deleted_at IS NULL");
      if (!update) return std::unexpected(std::move(update.error()));
      update->Bind(1, link.code)
          .Bind(2, OwnerParam(link.owner_id))
          .Bind(3, link.url)
          .Bind(4, static_cast<std::int64_t>(link.redirect_type))
          .Bind(5, link.expires_at)
          .Bind(6, link.metadata_json)
          .Bind(7, link.title)
          .Bind(8, Flag(link.forward_query))
          .Bind(10, link.max_clicks)
          .Bind(11, Flag(link.IsPersonal()))
          .Bind(12, now);
      BindOptions(*update, 9, link);
      if (Result<void> done = update->Run(); !done) {
        if (done.error().code == ErrorCode::kConflict) {
          return Fail(ErrorCode::kConflict, "the owner already has a link to this url");
        }
        return done;
      }
      if (c.Changes() == 0) return Fail(ErrorCode::kNotFound, "no such link");
      Result<Statement> clear = c.Prepare("DELETE FROM url_tags WHERE short_code = ?1");
      if (!clear) return std::unexpected(std::move(clear.error()));
      clear->Bind(1, link.code);
      if (Result<void> done = clear->Run(); !done) return done;
      return InsertTags(c, link);
    });
  });
}

Result<bool> SqliteLinkStore::UseClick(std::string_view code) {
  return Guard([&]() -> Result<bool> {
    bool used = false;
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      used = false;
      Result<Statement> use = c.Prepare(
          "UPDATE urls SET clicks_used = clicks_used + 1 WHERE short_code = ?1"
          " AND deleted_at IS NULL AND max_clicks IS NOT NULL AND clicks_used < max_clicks");
      if (!use) return std::unexpected(std::move(use.error()));
      use->Bind(1, code);
      if (Result<void> ran = use->Run(); !ran) return ran;
      if (c.Changes() > 0) {
        used = true;
        return {};
      }
      Result<Statement> exists = c.Prepare("SELECT 1 FROM urls WHERE short_code = ?1");
      if (!exists) return std::unexpected(std::move(exists.error()));
      exists->Bind(1, code);
      Result<bool> row = exists->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return Fail(ErrorCode::kNotFound, "no such link");
      return {};
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return used;
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
