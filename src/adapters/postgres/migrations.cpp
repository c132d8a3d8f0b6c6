#include "adapters/postgres/migrations.hpp"

namespace kurz::adapters::postgres {
namespace {

// The seed's schema (docs: url-shortener-architecture.md, "Database Schema Design"), with what the
// ports need on top. Where it departs from the seed, and why:
// - urls.short_code is VARCHAR(32) COLLATE "C": custom codes reach 32 characters, and codes are
//   case-sensitive and listed in byte order whatever the database's locale.
// - urls.original_url keeps VARCHAR(2048) and also checks 2048 bytes, the link rule.
// - urls.metadata is JSON, not JSONB: it is handed back exactly as the user gave it (JSONB
//   reorders keys and respaces), and nothing queries inside it.
// - the seed's idx_urls_short_code_active cannot be built (NOW() in an index predicate is not
//   immutable); the primary key serves redirects. Its MD5(original_url) index becomes the unique
//   idx_urls_dedup on (MD5(url), owner, redirect type) over active plain links: deduplication as
//   a constraint, so concurrent identical creates cannot both insert. Lookups also compare the url
//   itself; an MD5 collision can only make an owner's own second create a conflict.
// - users.email is unique ignoring case (the seed's idx_users_email on lower(email)).
// - api_keys.key_hash is UNIQUE (which also serves lookups, so the seed's partial index on it is
//   left out); permissions carry "admin" too.
// Times are TIMESTAMPTZ, converted exactly from and to the ports' microseconds in the queries.
constexpr const char* kAccountsAndLinks = R"sql(
CREATE TABLE users (
  id BIGSERIAL PRIMARY KEY,
  email VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL DEFAULT '',
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  status VARCHAR(20) NOT NULL DEFAULT 'active',
  tier VARCHAR(20) NOT NULL DEFAULT 'free',
  default_expiry_days INTEGER NOT NULL DEFAULT 1825,
  CONSTRAINT valid_status CHECK (status IN ('active', 'suspended', 'deleted')),
  CONSTRAINT valid_tier CHECK (tier IN ('free', 'pro', 'enterprise'))
);
CREATE UNIQUE INDEX idx_users_email ON users (lower(email));

CREATE TABLE api_keys (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id),
  key_hash VARCHAR(64) NOT NULL,
  key_prefix VARCHAR(8) NOT NULL,
  name VARCHAR(100),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  last_used_at TIMESTAMPTZ,
  expires_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ,
  permissions JSONB NOT NULL
    DEFAULT '{"create": true, "read": true, "delete": true, "admin": false}',
  CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX idx_api_keys_user ON api_keys (user_id);

CREATE TABLE urls (
  short_code VARCHAR(32) COLLATE "C" PRIMARY KEY,
  original_url VARCHAR(2048) NOT NULL,
  user_id BIGINT REFERENCES users (id),
  api_key_id BIGINT REFERENCES api_keys (id),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  expires_at TIMESTAMPTZ,
  deleted_at TIMESTAMPTZ,
  is_custom BOOLEAN NOT NULL DEFAULT FALSE,
  redirect_type SMALLINT NOT NULL DEFAULT 301,
  click_count BIGINT NOT NULL DEFAULT 0,
  last_clicked_at TIMESTAMPTZ,
  metadata JSON NOT NULL DEFAULT '{}',
  CONSTRAINT valid_redirect_type CHECK (redirect_type IN (301, 302, 307)),
  CONSTRAINT valid_short_code CHECK (length(short_code) >= 1),
  CONSTRAINT valid_original_url CHECK (octet_length(original_url) <= 2048)
);
-- A user's links, newest first, walked from a (created_at, short_code) cursor.
CREATE INDEX idx_urls_user_id_created ON urls (user_id, created_at DESC, short_code DESC)
  WHERE deleted_at IS NULL;
CREATE INDEX idx_urls_expires_at ON urls (expires_at)
  WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX idx_urls_dedup ON urls (MD5(original_url), user_id, redirect_type)
  WHERE deleted_at IS NULL AND NOT is_custom AND expires_at IS NULL;

-- The code counter: LeaseCodeBlock advances it by a whole block in one UPDATE ... RETURNING.
CREATE TABLE counters (
  name VARCHAR(64) PRIMARY KEY,
  next_value BIGINT NOT NULL CHECK (next_value >= 0)
);
INSERT INTO counters (name, next_value) VALUES ('link_code', 0);

-- Named values kept across restarts (the scrambler key, secrets): any bytes.
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value BYTEA NOT NULL
);
)sql";

// Click analytics, as in the SQLite adapter: the pipeline stores per-day aggregates
// (daily_stats, daily_visitors, urls.click_count), applied in batches made idempotent by
// applied_click_batches (rows older than a week are deleted as batches come in). Codes in these
// tables are TEXT: a click of any code must never make a batch impossible to apply.
constexpr const char* kClicks = R"sql(
-- Raw clicks, partitioned by month as in the seed; the partitions are created ahead of time by
-- Migrate and EnsureClickPartitions (clicks_YYYY_MM). A primary or unique key of a partitioned
-- table must contain the partition key, hence (id, clicked_at) and (event_id, clicked_at). For
-- the cluster mode's pipeline: the aggregating pipeline does not write them.
CREATE TABLE clicks (
  id BIGSERIAL,
  event_id TEXT NOT NULL,
  short_code TEXT COLLATE "C" NOT NULL,
  clicked_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ip_hash VARCHAR(64),
  user_agent TEXT,
  referrer VARCHAR(2048),
  accept_language TEXT,
  country_code CHAR(2),
  city VARCHAR(100),
  device_type VARCHAR(20),
  browser VARCHAR(50),
  os VARCHAR(50),
  PRIMARY KEY (id, clicked_at),
  UNIQUE (event_id, clicked_at)
) PARTITION BY RANGE (clicked_at);
CREATE INDEX idx_clicks_short_code_time ON clicks (short_code, clicked_at DESC);
CREATE INDEX idx_clicks_time ON clicks (clicked_at);

-- unique_visitors is the number of daily_visitors rows of the same code and day, kept in step by
-- the writer. Counts are BIGINT (the seed's INTEGER could overflow for a popular link's day).
CREATE TABLE daily_stats (
  short_code TEXT COLLATE "C" NOT NULL,
  date DATE NOT NULL,
  click_count BIGINT NOT NULL DEFAULT 0,
  unique_visitors BIGINT NOT NULL DEFAULT 0,
  top_referrers JSONB NOT NULL DEFAULT '[]',
  country_breakdown JSONB NOT NULL DEFAULT '{}',
  device_breakdown JSONB NOT NULL DEFAULT '{}',
  PRIMARY KEY (short_code, date)
);
CREATE INDEX idx_daily_stats_date ON daily_stats (date);

-- Who visited a code on a day: keyed hashes of IPs, never IPs. Distinct visitors over a range
-- are counted exactly from the primary key.
CREATE TABLE daily_visitors (
  short_code TEXT COLLATE "C" NOT NULL,
  date DATE NOT NULL,
  visitor TEXT NOT NULL,
  PRIMARY KEY (short_code, date, visitor)
);

CREATE TABLE applied_click_batches (
  id TEXT PRIMARY KEY,
  applied_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_applied_click_batches_applied_at ON applied_click_batches (applied_at);
)sql";

// Bot clicks apart from human ones, all six breakdowns of human clicks (JSONB objects
// {"value": clicks} with at most core::kMaxValuesPerDay values plus "(other)", merged by the
// writer), and per-minute and per-hour counts kept for core::kMinuteRetention and
// core::kHourRetention (each batch deletes older rows by the time indexes).
constexpr const char* kBotsBreakdownsAndBuckets = R"sql(
ALTER TABLE daily_stats
  ADD COLUMN bot_clicks BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN browser_breakdown JSONB NOT NULL DEFAULT '{}',
  ADD COLUMN os_breakdown JSONB NOT NULL DEFAULT '{}',
  ADD COLUMN city_breakdown JSONB NOT NULL DEFAULT '{}';

CREATE TABLE minute_stats (
  short_code TEXT COLLATE "C" NOT NULL,
  minute TIMESTAMPTZ NOT NULL,
  clicks BIGINT NOT NULL DEFAULT 0,
  bot_clicks BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (short_code, minute)
);
CREATE INDEX idx_minute_stats_minute ON minute_stats (minute);

CREATE TABLE hourly_stats (
  short_code TEXT COLLATE "C" NOT NULL,
  hour TIMESTAMPTZ NOT NULL,
  clicks BIGINT NOT NULL DEFAULT 0,
  bot_clicks BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (short_code, hour)
);
CREATE INDEX idx_hourly_stats_hour ON hourly_stats (hour);
)sql";

// Where `kurz worker` is in each partition of the event stream it reads: the offset of the next
// message to read. The ClickLog moves a partition's position in the transaction that applies the
// batch read from it, and only from where it was, so counts are exactly-once.
constexpr const char* kStreamPositions = R"sql(
CREATE TABLE stream_positions (
  stream TEXT COLLATE "C" NOT NULL,
  partition INTEGER NOT NULL,
  next_offset BIGINT NOT NULL,
  PRIMARY KEY (stream, partition)
);
)sql";

// Listed key prefixes show at most 6 characters of a secret and at most a quarter of it. The
// length of a stored key's secret is not known, so older 8-character prefixes keep 4: a quarter
// of the shortest key kurz accepts (16 characters).
constexpr const char* kShorterKeyPrefixes = R"sql(
UPDATE api_keys SET key_prefix = left(key_prefix, 4) WHERE length(key_prefix) > 6;
)sql";

// PATCH came with the permission `update`: every key that could create links may now change them.
constexpr const char* kUpdatePermission = R"sql(
UPDATE api_keys SET permissions = jsonb_set(permissions, '{update}', 'true')
  WHERE permissions->'create' = 'true';
)sql";

// Link options beyond the seed (issue 12), as in the SQLite adapter: title, forward_query,
// max_clicks (NULL: no budget), clicks_used (the budget spent), options (JSONB: password hash,
// expired_url, rules, variants, og; adapters/common/link_options_json.hpp; NULL when none; JSONB
// because it is only read whole and key order does not matter) and personal (core::Link::
// IsPersonal, kept by the stores), which the dedup index now skips. redirect_type allows 308.
// Adding the columns does not rewrite the table (constant defaults); the two CHECKs scan it once.
// Tags live in url_tags in the order given; tag_key is the tag with ASCII letters lower-cased
// (the stores fold it), so ?tag= and GET /v1/tags compare case-insensitively through the
// (user_id, tag_key) index. Rows stay when a link is soft-deleted; queries join urls.deleted_at.
// No trigram index for the text search: pg_trgm is in postgresql-contrib, which not every server
// has; a search reads the owner's links by idx_urls_user_id_created and filters them.
constexpr const char* kLinkOptions = R"sql(
ALTER TABLE urls
  ADD COLUMN title TEXT NOT NULL DEFAULT '',
  ADD COLUMN forward_query BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN options JSONB,
  ADD COLUMN max_clicks BIGINT,
  ADD COLUMN clicks_used BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN personal BOOLEAN NOT NULL DEFAULT FALSE,
  ADD CONSTRAINT valid_clicks_used CHECK (clicks_used >= 0),
  DROP CONSTRAINT valid_redirect_type,
  ADD CONSTRAINT valid_redirect_type CHECK (redirect_type IN (301, 302, 307, 308));
DROP INDEX idx_urls_dedup;
CREATE UNIQUE INDEX idx_urls_dedup ON urls (MD5(original_url), user_id, redirect_type)
  WHERE deleted_at IS NULL AND NOT is_custom AND expires_at IS NULL AND NOT personal;

CREATE TABLE url_tags (
  short_code VARCHAR(32) COLLATE "C" NOT NULL,
  position SMALLINT NOT NULL,
  tag TEXT NOT NULL,
  tag_key TEXT COLLATE "C" NOT NULL,
  user_id BIGINT,
  PRIMARY KEY (short_code, tag_key)
);
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

}  // namespace kurz::adapters::postgres
