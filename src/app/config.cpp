#include "app/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace kurz::app {

namespace {

std::string EnvName(const std::string& flag) {
  std::string name = "KURZ_";
  for (char c : flag) name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return name;
}

}  // namespace

core::Result<BackendUrl> ParseBackendUrl(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "'" + std::string(text) + "' is not a backend URL like scheme://...");
  }
  BackendUrl url;
  url.text = std::string(text);
  for (char c : text.substr(0, sep)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-') {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "'" + std::string(text) + "' has an invalid scheme");
    }
    url.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  url.rest = std::string(text.substr(sep + 3));
  return url;
}

core::Result<Flags> Flags::Parse(int argc, char** argv, int first,
                                 const std::vector<std::string>& known,
                                 const std::vector<std::string>& switches) {
  Flags flags;
  const auto is_known = [&](const std::string& n) {
    return std::ranges::find(known, n) != known.end();
  };
  const auto is_switch = [&](const std::string& n) {
    return std::ranges::find(switches, n) != switches.end();
  };
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) flags.positional_.emplace_back(argv[i]);
      break;
    }
    if (!arg.starts_with("--") || arg.size() == 2) {
      if (arg.size() > 1 && arg[0] == '-') {
        return core::Fail(core::ErrorCode::kInvalidArgument, "unknown flag '" + arg + "'");
      }
      flags.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (!is_known(name) && !is_switch(name)) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "unknown flag '--" + name + "' (see --help)");
    }
    if (is_switch(name)) {
      if (value) {
        return core::Fail(core::ErrorCode::kInvalidArgument,
                          "flag '--" + name + "' takes no value");
      }
      flags.values_[name] = "true";
      continue;
    }
    if (!value) {
      if (i + 1 >= argc) {
        return core::Fail(core::ErrorCode::kInvalidArgument, "flag '--" + name + "' needs a value");
      }
      value = argv[++i];
    }
    flags.values_[name] = *value;
  }
  for (const std::string& name : known) {
    if (flags.values_.contains(name)) continue;
    if (const char* env = std::getenv(EnvName(name).c_str())) flags.values_[name] = env;
  }
  return flags;
}

std::optional<std::string> Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

namespace {
constexpr std::size_t kMinSecretLength = 16;
}  // namespace

const std::vector<std::string>& ServeFlagNames() {
  static const std::vector<std::string> names = {"listen",
                                                 "data",
                                                 "base-url",
                                                 "database",
                                                 "cache",
                                                 "events",
                                                 "bootstrap-key",
                                                 "rate-limit-api",
                                                 "rate-limit-redirect",
                                                 "geoip",
                                                 "threads",
                                                 "workers",
                                                 "cache-size",
                                                 "click-queue",
                                                 "uap-regexes",
                                                 "ip-salt-secret",
                                                 "trusted-proxies",
                                                 "cache-namespace",
                                                 "database-replicas",
                                                 "spool-dir",
                                                 "spool-max-bytes",
                                                 "well-known-dir"};
  return names;
}

const std::vector<std::string>& WorkerFlagNames() {
  static const std::vector<std::string> names = {
      "events",          "group",  "data",        "database",          "analytics",         "cache",
      "cache-namespace", "listen", "uap-regexes", "flush-interval-ms", "session-timeout-ms"};
  return names;
}

namespace {
bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}
}  // namespace

std::vector<std::string> SplitReplicaUrls(std::string_view text) {
  std::vector<std::string> urls;
  std::size_t start = 0;
  for (std::size_t comma = text.find(','); comma != std::string_view::npos;
       comma = text.find(',', comma + 1)) {
    if (!IsPostgresUrl(text.substr(comma + 1))) continue;
    urls.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  urls.emplace_back(text.substr(start));
  return urls;
}

core::Result<std::int64_t> ParseIntFlag(const std::string& name, const std::string& value,
                                        std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || n < min ||
      n > max) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--" + name + " must be a whole number from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", not '" + value + "'");
  }
  return n;
}

namespace {

std::unexpected<core::Error> Unexpected(const core::Result<void>& failed) {
  return std::unexpected(failed.error());
}

core::Result<void> ParseListen(const std::string& listen, std::string& host, std::uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--listen must be HOST:PORT such as 127.0.0.1:8080, not '" + listen + "'");
  }
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto n = ParseIntFlag("listen port", listen.substr(colon + 1), 0, 65535);
  if (!n) return std::unexpected(n.error());
  port = static_cast<std::uint16_t>(*n);
  return {};
}

core::Result<void> ParseNamespace(const std::string& v, std::string& out) {
  const bool ok = !v.empty() && v.size() <= 64 && std::ranges::all_of(v, [](unsigned char ch) {
    return std::isalnum(ch) || ch == '_' || ch == '-' || ch == '.';
  });
  if (!ok) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--cache-namespace must be 1-64 letters, digits, '_', '-' or '.'");
  }
  out = v;
  return {};
}

}  // namespace

core::Result<ServeConfig> LoadServeConfig(const Flags& flags) {
  ServeConfig c;
  if (!flags.positional().empty()) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "unexpected argument '" + flags.positional().front() + "'");
  }
  if (auto listen = flags.Get("listen")) {
    if (auto ok = ParseListen(*listen, c.listen_host, c.listen_port); !ok) return Unexpected(ok);
  }
  if (auto v = flags.Get("data")) {
    if (v->empty())
      return core::Fail(core::ErrorCode::kInvalidArgument, "--data must not be empty");
    c.data_dir = *v;
  }
  if (auto v = flags.Get("base-url")) {
    if ((!v->starts_with("http://") && !v->starts_with("https://")) || v->size() < 10) {
      return core::Fail(
          core::ErrorCode::kInvalidArgument,
          "--base-url must be an http(s) URL such as https://sho.rt, not '" + *v + "'");
    }
    c.base_url = *v;
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  }
  if (auto v = flags.Get("database")) c.database = *v;
  if (auto v = flags.Get("database-replicas"); v && !v->empty()) {
    if (!IsPostgresUrl(c.database)) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "--database-replicas needs a postgres:// --database (the primary)");
    }
    c.database_replicas = SplitReplicaUrls(*v);
    for (const std::string& url : c.database_replicas) {
      if (!IsPostgresUrl(url) || url.find("://") + 3 == url.size()) {
        // Without the user and password.
        const std::size_t at = url.rfind('@');
        const std::string shown = at == std::string::npos ? url : "...@" + url.substr(at + 1);
        return core::Fail(
            core::ErrorCode::kInvalidArgument,
            "--database-replicas must be postgres:// URLs separated by commas, not '" + shown +
                "'");
      }
    }
  }
  if (auto v = flags.Get("cache")) c.cache = *v;
  if (auto v = flags.Get("events")) c.events = *v;
  if (auto v = flags.Get("spool-dir")) {
    if (v->empty()) return core::Fail(core::ErrorCode::kInvalidArgument, "--spool-dir: empty path");
    c.spool_dir = *v;
  }
  if (auto v = flags.Get("bootstrap-key")) {
    const bool ok = v->size() >= 16 && v->size() <= 200 &&
                    std::ranges::all_of(*v, [](char ch) { return ch > 0x20 && ch < 0x7F; });
    if (!ok) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "--bootstrap-key must be 16 to 200 visible ASCII characters");
    }
    c.bootstrap_key = *v;
  }
  struct IntFlag {
    const char* name;
    std::int64_t min;
    std::int64_t max;
    std::int64_t* out;
  };
  std::int64_t threads = 0;
  std::int64_t workers = c.workers;
  const IntFlag ints[] = {
      {"rate-limit-api", 0, 1'000'000, &c.rate_limit_api},
      {"rate-limit-redirect", 0, 1'000'000, &c.rate_limit_redirect},
      {"threads", 1, 256, &threads},
      {"workers", 1, 1024, &workers},
      {"cache-size", 0, 1'000'000'000, &c.cache_size},
      {"click-queue", 16, 16'777'216, &c.click_queue},
      {"spool-max-bytes", 1 << 20, 1LL << 40, &c.spool_max_bytes},
  };
  for (const IntFlag& f : ints) {
    if (auto v = flags.Get(f.name)) {
      auto n = ParseIntFlag(f.name, *v, f.min, f.max);
      if (!n) return std::unexpected(n.error());
      *f.out = *n;
    }
  }
  c.threads = static_cast<int>(threads);
  c.workers = static_cast<int>(workers);
  if (auto v = flags.Get("geoip")) {
    if (v->empty()) return core::Fail(core::ErrorCode::kInvalidArgument, "--geoip: empty path");
    c.geoip = *v;
  }
  if (auto v = flags.Get("uap-regexes")) {
    if (v->empty()) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "--uap-regexes: empty path");
    }
    c.uap_regexes = *v;
  }
  if (auto v = flags.Get("well-known-dir")) {
    if (v->empty()) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "--well-known-dir: empty path");
    }
    c.well_known_dir = *v;
  }
  if (auto v = flags.Get("ip-salt-secret")) {
    if (v->size() < kMinSecretLength) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "--ip-salt-secret must be at least 16 characters (it keys the visitor "
                        "hashes; use a long random string)");
    }
    c.ip_salt_secret = *v;
  }
  if (auto v = flags.Get("cache-namespace")) {
    if (auto ok = ParseNamespace(*v, c.cache_namespace); !ok) return Unexpected(ok);
  }
  if (auto v = flags.Get("trusted-proxies")) {
    auto list = core::ParseCidrList(*v);
    if (!list) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "--trusted-proxies: " + list.error().detail);
    }
    c.trusted_proxies = std::move(*list);
  }
  return c;
}

core::Result<WorkerConfig> LoadWorkerConfig(const Flags& flags) {
  WorkerConfig c;
  if (!flags.positional().empty()) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "unexpected argument '" + flags.positional().front() + "'");
  }
  auto required = [&](const char* name, std::string& out, std::string_view scheme,
                      const char* example) -> core::Result<void> {
    auto v = flags.Get(name);
    if (!v || !v->starts_with(scheme)) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        std::string("--") + name + " " + example + " is required" +
                            (v ? ", not '" + *v + "'" : std::string()));
    }
    out = *v;
    return {};
  };
  if (auto ok = required("events", c.events, "kafka://", "kafka://host:port[,host:port...]/topic");
      !ok) {
    return Unexpected(ok);
  }
  if (auto ok = required("analytics", c.analytics, "clickhouse://", "clickhouse://host:port/db");
      !ok) {
    return Unexpected(ok);
  }
  if (auto v = flags.Get("group")) {
    const bool ok =
        !v->empty() && v->size() <= 200 && std::ranges::all_of(*v, [](unsigned char ch) {
          return std::isalnum(ch) || ch == '_' || ch == '-' || ch == '.';
        });
    if (!ok) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "--group must be 1-200 letters, digits, '_', '-' or '.'");
    }
    c.group = *v;
  }
  if (auto v = flags.Get("data")) {
    if (v->empty())
      return core::Fail(core::ErrorCode::kInvalidArgument, "--data must not be empty");
    c.data_dir = *v;
  }
  if (auto v = flags.Get("database")) c.database = *v;
  if (auto v = flags.Get("cache")) c.cache = *v;
  if (auto v = flags.Get("cache-namespace")) {
    if (auto ok = ParseNamespace(*v, c.cache_namespace); !ok) return Unexpected(ok);
  }
  if (auto v = flags.Get("listen")) {
    if (auto ok = ParseListen(*v, c.listen_host, c.listen_port); !ok) return Unexpected(ok);
  }
  if (auto v = flags.Get("uap-regexes")) {
    if (v->empty()) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "--uap-regexes: empty path");
    }
    c.uap_regexes = *v;
  }
  if (auto v = flags.Get("flush-interval-ms")) {
    auto n = ParseIntFlag("flush-interval-ms", *v, 10, 60'000);
    if (!n) return std::unexpected(n.error());
    c.flush_interval_ms = *n;
  }
  if (auto v = flags.Get("session-timeout-ms")) {
    auto n = ParseIntFlag("session-timeout-ms", *v, 1'000, 300'000);
    if (!n) return std::unexpected(n.error());
    c.session_timeout_ms = *n;
  }
  return c;
}

}  // namespace kurz::app
