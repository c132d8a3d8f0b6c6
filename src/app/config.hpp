#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/ip.hpp"

namespace kurz::app {

// A backend address such as "sqlite:///var/lib/kurz/kurz.db" or "memory://".
struct BackendUrl {
  std::string scheme;  // lowercase, without "://"
  std::string rest;    // everything after "://"
  std::string text;    // as given
};
core::Result<BackendUrl> ParseBackendUrl(std::string_view text);

// Settings of `kurz serve` (and the database settings the other commands share), validated
// before anything starts.
struct ServeConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string data_dir = "./kurz-data";
  std::string base_url;  // empty: "http://<listen>"
  std::string database;  // empty: sqlite under data_dir
  // Read replicas of a postgres database: redirect misses, lists and stats read from them.
  std::vector<std::string> database_replicas;
  std::string cache = "memory://";
  std::string cache_namespace = "kurz";  // prefix of the shared cache's keys and channels
  std::string events = "memory://";      // or kafka://host:port[,host:port...]/topic
  std::string spool_dir;  // empty: <data_dir>/spool (events kept while Kafka is down)
  std::int64_t spool_max_bytes = 1LL << 30;
  std::optional<std::string> bootstrap_key;
  std::int64_t rate_limit_api = 100;
  std::int64_t rate_limit_redirect = 0;
  int threads = 0;  // 0: one per core
  int workers = 16;
  std::int64_t cache_size = 1'000'000;
  std::int64_t click_queue = 65'536;
  std::string geoip;  // MaxMind-format database; empty: every client is in "ZZ"
  std::string uap_regexes = "/usr/share/uap-core/regexes.yaml";
  std::optional<std::string> ip_salt_secret;  // empty: a random one kept in the database
  std::vector<core::Cidr> trusted_proxies;    // whose X-Forwarded-For is believed
  // apple-app-site-association and assetlinks.json for /.well-known/; empty: none.
  std::string well_known_dir;
};

// Settings of `kurz worker`: the analytics consumer of the click-events stream.
struct WorkerConfig {
  std::string events;                    // kafka://host:port[,host:port...]/topic (required)
  std::string group = "kurz-analytics";  // consumer group
  std::string data_dir = "./kurz-data";
  std::string database;             // empty: sqlite under data_dir
  std::string analytics;            // clickhouse://host:port/db (required)
  std::string cache = "memory://";  // redis:// or redis-cluster://: real-time counters
  std::string cache_namespace = "kurz";
  std::string listen_host = "127.0.0.1";  // /metrics, /healthz, /readyz
  std::uint16_t listen_port = 9091;
  std::string uap_regexes = "/usr/share/uap-core/regexes.yaml";
  std::int64_t flush_interval_ms = 1000;
  std::int64_t session_timeout_ms = 10'000;
};

// Flags of one command after the command words: "--name value" or "--name=value"; positional
// arguments are kept in order. Every flag may also come from the environment as KURZ_<NAME>
// (upper case, '-' as '_'); a flag wins over the environment.
class Flags {
 public:
  // Parses argv[first..]; `known` lists the flag names (without "--") this command takes,
  // `switches` those that take no value. invalid_argument on an unknown flag or missing value.
  static core::Result<Flags> Parse(int argc, char** argv, int first,
                                   const std::vector<std::string>& known,
                                   const std::vector<std::string>& switches = {});
  std::optional<std::string> Get(const std::string& name) const;
  bool Has(const std::string& name) const { return Get(name).has_value(); }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// The flag names `kurz serve` accepts.
const std::vector<std::string>& ServeFlagNames();
// Builds and validates a ServeConfig from flags; invalid_argument naming the flag otherwise.
core::Result<ServeConfig> LoadServeConfig(const Flags& flags);

// The flag names `kurz worker` accepts.
const std::vector<std::string>& WorkerFlagNames();
// Builds and validates a WorkerConfig from flags; invalid_argument naming the flag otherwise.
core::Result<WorkerConfig> LoadWorkerConfig(const Flags& flags);

// Splits --database-replicas: postgres URLs separated by commas. A comma starts a new URL only
// before "postgres://" or "postgresql://", so multi-host URLs (h1:p1,h2:p2) stay whole.
std::vector<std::string> SplitReplicaUrls(std::string_view text);

// Strict integer parsing for flag values, in [min, max].
core::Result<std::int64_t> ParseIntFlag(const std::string& name, const std::string& value,
                                        std::int64_t min, std::int64_t max);

}  // namespace kurz::app
