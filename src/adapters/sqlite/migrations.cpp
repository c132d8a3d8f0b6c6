#include "adapters/sqlite/migrations.hpp"

namespace kurz::adapters::sqlite {
namespace {

// The seed's PostgreSQL schema in SQLite's dialect. Times are INTEGER microseconds since the Unix
// epoch (UTC); booleans are 0/1; JSON columns are TEXT. The seed's dedup index on MD5(url) is an
// index on (owner, url itself, newest first): SQLite has no MD5, 2 KiB keys are fine, and the
// lookup is per owner anyway. users(email) needs no index beyond its UNIQUE constraint.
constexpr const char* kAccountsAndLinks = R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
  tier TEXT NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'enterprise')),
  default_expiry_days INTEGER NOT NULL DEFAULT 1825
);

CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  name TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  expires_at INTEGER,
  revoked_at INTEGER,
  permissions TEXT NOT NULL
    DEFAULT '{"create":true,"read":true,"delete":true,"admin":false}'
);
CREATE INDEX idx_api_keys_hash ON api_keys (key_hash) WHERE revoked_at IS NULL;
CREATE INDEX idx_api_keys_user ON api_keys (user_id);

CREATE TABLE urls (
  short_code TEXT PRIMARY KEY CHECK (length(short_code) BETWEEN 1 AND 32),
  original_url TEXT NOT NULL CHECK (length(CAST(original_url AS BLOB)) <= 2048),
  user_id INTEGER REFERENCES users (id),
  api_key_id INTEGER REFERENCES api_keys (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  deleted_at INTEGER,
  is_custom INTEGER NOT NULL DEFAULT 0 CHECK (is_custom IN (0, 1)),
  redirect_type INTEGER NOT NULL DEFAULT 301 CHECK (redirect_type IN (301, 302, 307)),
  click_count INTEGER NOT NULL DEFAULT 0,
  last_clicked_at INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_urls_user_id_created ON urls (user_id, created_at DESC, short_code DESC)
  WHERE deleted_at IS NULL;
CREATE INDEX idx_urls_expires_at ON urls (expires_at)
  WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
-- Deduplication as a constraint: an owner has at most one active, non-custom, non-expiring link
-- per (url, redirect type), so concurrent identical creates cannot both insert. SQLite has no
-- MD5(); the index holds the URL itself (at most 2048 bytes).
CREATE UNIQUE INDEX idx_urls_dedup ON urls (user_id, original_url, redirect_type)
  WHERE deleted_at IS NULL AND is_custom = 0 AND expires_at IS NULL;

CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  next_value INTEGER NOT NULL CHECK (next_value >= 0)
) WITHOUT ROWID;
INSERT INTO counters (name, next_value) VALUES ('link_code', 0);

CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Click analytics. The embedded pipeline stores aggregates, not clicks: the drain sums clicks per
// (code, day) over a short window and applies them as one batch (daily_stats, daily_visitors,
// urls.click_count), so the writer does one upsert per code and day instead of a row and three
// index entries per click. applied_click_batches makes a retried batch a no-op; rows older than
// a week are deleted by the applied_at index as batches come in.
constexpr const char* kClicks = R"sql(
-- Raw clicks, kept for schema parity with the seed (which partitions them by month; SQLite has
-- no partitions, so retention would be a DELETE by the clicked_at index). They are for the
-- cluster mode's pipeline: the embedded pipeline does NOT write them.
CREATE TABLE clicks (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  short_code TEXT NOT NULL,
  clicked_at INTEGER NOT NULL,
  ip_hash TEXT,
  user_agent TEXT,
  referrer TEXT,
  accept_language TEXT,
  country_code TEXT,
  city TEXT,
  device_type TEXT,
  browser TEXT,
  os TEXT
);
CREATE INDEX idx_clicks_short_code_time ON clicks (short_code, clicked_at, ip_hash);
CREATE INDEX idx_clicks_time ON clicks (clicked_at);

-- unique_visitors is the number of daily_visitors rows of the same code and day, kept in step
-- by the writer.
CREATE TABLE daily_stats (
  short_code TEXT NOT NULL,
  date TEXT NOT NULL,
  click_count INTEGER NOT NULL DEFAULT 0,
  unique_visitors INTEGER NOT NULL DEFAULT 0,
  top_referrers TEXT NOT NULL DEFAULT '[]',
  country_breakdown TEXT NOT NULL DEFAULT '{}',
  device_breakdown TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (short_code, date)
) WITHOUT ROWID;
CREATE INDEX idx_daily_stats_date ON daily_stats (date);

-- Who visited a code on a day: keyed hashes of IPs (32 hex characters, salted per day), never
-- IPs. Distinct visitors over a range are counted from the primary key alone.
CREATE TABLE daily_visitors (
  short_code TEXT NOT NULL,
  date TEXT NOT NULL,
  visitor TEXT NOT NULL,
  PRIMARY KEY (short_code, date, visitor)
) WITHOUT ROWID;

-- Click batches already applied, so that applying one again changes nothing.
CREATE TABLE applied_click_batches (
  id TEXT PRIMARY KEY,
  applied_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idx_applied_click_batches_applied_at ON applied_click_batches (applied_at);
)sql";

// Click analytics, richer: bot clicks apart from human ones, all six breakdowns of human clicks,
// and per-minute and per-hour counts for the recent past. Every breakdown column is a JSON object
// {"value": clicks, ...} with at most core::kMaxValuesPerDay values plus "(other)"; the writer
// reads, merges and rewrites a day's objects. top_referrers was created with the default '[]':
// anything that is not an object reads as empty, and the writer always writes an object.
constexpr const char* kBotsBreakdownsAndBuckets = R"sql(
ALTER TABLE daily_stats ADD COLUMN bot_clicks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN browser_breakdown TEXT NOT NULL DEFAULT '{}';
ALTER TABLE daily_stats ADD COLUMN os_breakdown TEXT NOT NULL DEFAULT '{}';
ALTER TABLE daily_stats ADD COLUMN city_breakdown TEXT NOT NULL DEFAULT '{}';

-- Clicks per code and minute (bucket start, microseconds since the epoch, a whole minute), kept
-- for core::kMinuteRetention (48 hours): each applied batch deletes older rows by the minute
-- index, which is one seek when nothing has aged out.
CREATE TABLE minute_stats (
  short_code TEXT NOT NULL,
  minute INTEGER NOT NULL,
  clicks INTEGER NOT NULL DEFAULT 0,
  bot_clicks INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (short_code, minute)
) WITHOUT ROWID;
CREATE INDEX idx_minute_stats_minute ON minute_stats (minute);

-- The same per hour (bucket start: a whole hour), kept for core::kHourRetention (366 days).
CREATE TABLE hourly_stats (
  short_code TEXT NOT NULL,
  hour INTEGER NOT NULL,
  clicks INTEGER NOT NULL DEFAULT 0,
  bot_clicks INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (short_code, hour)
) WITHOUT ROWID;
CREATE INDEX idx_hourly_stats_hour ON hourly_stats (hour);
)sql";

// Where `kurz worker` is in each partition of the event stream it reads: the offset of the next
// message to read. The ClickLog moves a partition's position in the transaction that applies the
// batch read from it, and only from where it was, so counts are exactly-once.
constexpr const char* kStreamPositions = R"sql(
CREATE TABLE stream_positions (
  stream TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (stream, partition)
) WITHOUT ROWID;
)sql";

// Listed key prefixes show at most 6 characters of a secret and at most a quarter of it. The
// length of a stored key's secret is not known, so older 8-character prefixes keep 4: a quarter
// of the shortest key kurz accepts (16 characters).
constexpr const char* kShorterKeyPrefixes = R"sql(
UPDATE api_keys SET key_prefix = substr(key_prefix, 1, 4) WHERE length(key_prefix) > 6;
)sql";

// PATCH came with the permission `update`: every key that could create links may now change them.
constexpr const char* kUpdatePermission = R"sql(
UPDATE api_keys SET permissions = json_set(permissions, '$.update', json('true'))
  WHERE json_extract(permissions, '$.create') IS 1;
)sql";

// Link options beyond the seed (issue 12). SQLite cannot change a CHECK, and redirect_type must
// allow 308 now, so urls is rebuilt the documented way (new table, copy, drop, rename, every
// index again); nothing references urls, so foreign keys stay on. New columns:
// - title, forward_query, max_clicks (NULL: no budget) and clicks_used (the budget spent);
// - options: the JSON object of the options nothing queries by (password hash, expired_url,
//   rules, variants, og; adapters/common/link_options_json.hpp), NULL when the link has none;
// - personal: whether the answer depends on the visitor (password, click budget, rules or
//   variants: core::Link::IsPersonal), kept by the stores so the dedup index skips such links.
// Tags live in url_tags, one row per (link, tag) in the order given; tag_key is the tag with
// ASCII letters lower-cased (the stores fold it), so ?tag= and GET /v1/tags compare
// case-insensitively through the (user_id, tag_key) index. Rows are never removed with their
// link: links are only soft-deleted, and the queries join to urls.deleted_at.
constexpr const char* kLinkOptions = R"sql(
CREATE TABLE urls_new (
  short_code TEXT PRIMARY KEY CHECK (length(short_code) BETWEEN 1 AND 32),
  original_url TEXT NOT NULL CHECK (length(CAST(original_url AS BLOB)) <= 2048),
  user_id INTEGER REFERENCES users (id),
  api_key_id INTEGER REFERENCES api_keys (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  deleted_at INTEGER,
  is_custom INTEGER NOT NULL DEFAULT 0 CHECK (is_custom IN (0, 1)),
  redirect_type INTEGER NOT NULL DEFAULT 301 CHECK (redirect_type IN (301, 302, 307, 308)),
  click_count INTEGER NOT NULL DEFAULT 0,
  last_clicked_at INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  title TEXT NOT NULL DEFAULT '',
  forward_query INTEGER NOT NULL DEFAULT 0 CHECK (forward_query IN (0, 1)),
  options TEXT,
  max_clicks INTEGER,
  clicks_used INTEGER NOT NULL DEFAULT 0 CHECK (clicks_used >= 0),
  personal INTEGER NOT NULL DEFAULT 0 CHECK (personal IN (0, 1))
);
INSERT INTO urls_new (short_code, original_url, user_id, api_key_id, created_at, updated_at,
    expires_at, deleted_at, is_custom, redirect_type, click_count, last_clicked_at, metadata)
  SELECT short_code, original_url, user_id, api_key_id, created_at, updated_at, expires_at,
    deleted_at, is_custom, redirect_type, click_count, last_clicked_at, metadata FROM urls;
DROP TABLE urls;
ALTER TABLE urls_new RENAME TO urls;
CREATE INDEX idx_urls_user_id_created ON urls (user_id, created_at DESC, short_code DESC)
  WHERE deleted_at IS NULL;
CREATE INDEX idx_urls_expires_at ON urls (expires_at)
  WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX idx_urls_dedup ON urls (user_id, original_url, redirect_type)
  WHERE deleted_at IS NULL AND is_custom = 0 AND expires_at IS NULL AND personal = 0;

CREATE TABLE url_tags (
  short_code TEXT NOT NULL,
  position INTEGER NOT NULL,
  tag TEXT NOT NULL,
  tag_key TEXT NOT NULL,
  user_id INTEGER,
  PRIMARY KEY (short_code, tag_key)
) WITHOUT ROWID;
CREATE INDEX idx_url_tags_user_tag ON url_tags (user_id, tag_key, short_code);
)sql";

constexpr Migration kMigrations[] = {
    {1, "accounts and links", kAccountsAndLinks},
    {2, "clicks and daily stats", kClicks},
    {3, "bot clicks, breakdowns, minute and hour counts", kBotsBreakdownsAndBuckets},
    {4, "event stream positions", kStreamPositions},
    {5, "shorter API key prefixes", kShorterKeyPrefixes},
    {6, "the update permission", kUpdatePermission},
    {7, "link options, 308 and tags", kLinkOptions},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

}  // namespace kurz::adapters::sqlite
