// `kurz worker`: one member of the analytics consumer group. Reads click-events from Kafka,
// runs the analytics pipeline and stores raw clicks in ClickHouse, counts in the database and
// real-time counters in Redis (service::ClickConsumer); serves /metrics, /healthz and /readyz.

#include <pthread.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "adapters/geoip/no_geo_locator.hpp"
#include "adapters/uap/uap_parser.hpp"
#include "analytics/aggregator.hpp"
#include "app/backends.hpp"
#include "app/commands/command.hpp"
#include "app/config.hpp"
#include "app/signals.hpp"
#include "core/metrics_writer.hpp"
#include "http/error_body.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "service/click_consumer.hpp"
#include "service/crypto.hpp"

namespace kurz::app {
namespace {

constexpr const char* kWorkerHelp =
    R"(Usage: kurz worker --events kafka://... --analytics clickhouse://... [flags]

Consumes the click-events stream that 'kurz serve --events kafka://...' publishes, as one member
of a consumer group (run several: the group splits the topic's partitions among them and moves
them when one stops). Enriches clicks (user agents, bots, referrers) and stores raw clicks in
ClickHouse, daily/hourly/minute counts in the database the servers read their stats from, and
real-time counters in Redis. Every click is counted once, also across crashes and rebalances.

Flags (each also as KURZ_<FLAG>):
  --events URL              kafka://host:port[,host:port...]/topic (required)
  --group NAME              consumer group (default kurz-analytics)
  --analytics URL           clickhouse://host:port/database, the HTTP interface (required)
  --database URL            where the counts go: the servers' database, postgres://... or
                            sqlite:///path (default: sqlite under --data)
  --data DIR                data directory for an embedded database (default ./kurz-data)
  --cache URL               redis://host:port or redis-cluster://h1:p1,...: real-time
                            counters (default memory://: none)
  --cache-namespace NAME    prefix of the Redis keys (default kurz)
  --listen HOST:PORT        /metrics, /healthz and /readyz (default 127.0.0.1:9091)
  --uap-regexes FILE        uap-core regexes.yaml (default /usr/share/uap-core/regexes.yaml)
  --flush-interval-ms N     how often a window of clicks is stored (default 1000; longer,
                            up to 10 s, while the database takes longer than half of it)
  --session-timeout-ms N    how long the group waits for a silent member before moving its
                            partitions (default 10000)
)";

int WorkerFail(const std::string& message, int code = kExitFailure) {
  return Fail(message, code, "kurz worker");
}

// /metrics, /healthz and /readyz of the worker.
class WorkerHandler final : public http::Handler {
 public:
  explicit WorkerHandler(const service::ClickConsumer& consumer) : consumer_(consumer) {}

  void Handle(const http::Request& request, http::Responder& responder) override {
    static constexpr std::array<http::Header, 1> kJson{
        http::Header{"Content-Type", "application/json"}};
    if (request.method != http::Method::kGet && request.method != http::Method::kHead) {
      responder.Send(405, kJson, http::ErrorBody("method_not_allowed", "use GET"));
      return;
    }
    if (request.path == "/healthz") {
      responder.Send(200, kJson, R"({"status":"ok"})");
    } else if (request.path == "/readyz") {
      const bool ready = consumer_.healthy();
      responder.Send(ready ? 200 : 503, kJson,
                     ready ? R"({"status":"ok"})"
                           : R"({"status":"unavailable","checks":{"consumer":"no partitions )"
                             R"(assigned yet, or storing clicks fails"}})");
    } else if (request.path == "/metrics") {
      static constexpr std::array<http::Header, 1> kText{
          http::Header{"Content-Type", "text/plain; version=0.0.4"}};
      std::string body;
      core::MetricsWriter w(body);
      Render(w);
      responder.Send(200, kText, body);
    } else {
      responder.Send(
          404, kJson,
          http::ErrorBody("not_found", "kurz worker serves /metrics, /healthz and /readyz"));
    }
  }

  void HandleProtocolError(int status, std::string_view code, std::string_view message,
                           http::Responder& responder) override {
    static constexpr std::array<http::Header, 1> kJson{
        http::Header{"Content-Type", "application/json"}};
    responder.Send(status, kJson, http::ErrorBody(code, message));
  }

 private:
  void Render(core::MetricsWriter& w) const {
    const service::ClickConsumer::Counters c = consumer_.counters();
    w.Counter("kurz_worker_messages_consumed_total", "click-events messages read from the stream.",
              static_cast<double>(c.consumed));
    w.Counter("kurz_worker_clicks_stored_total", "Clicks stored (human and bot), each once.",
              static_cast<double>(c.stored));
    w.Counter("kurz_worker_duplicates_total",
              "Replayed messages skipped because their event was stored before.",
              static_cast<double>(c.duplicates));
    w.Counter("kurz_worker_malformed_total",
              "Messages skipped because they are not valid click events.",
              static_cast<double>(c.malformed));
    w.Counter("kurz_worker_windows_stored_total", "Windows of clicks stored.",
              static_cast<double>(c.windows));
    w.Counter("kurz_worker_store_errors_total", "Failed attempts to store a window (retried).",
              static_cast<double>(c.store_errors));
    w.Counter("kurz_worker_conflicts_total",
              "Windows dropped because another worker had stored those partitions further "
              "(after a rebalance); read again from the stored positions.",
              static_cast<double>(c.conflicts));
    w.Counter("kurz_worker_realtime_errors_total",
              "Real-time counter updates that failed (not retried).",
              static_cast<double>(c.realtime_errors));
    w.Family("kurz_worker_store_seconds_total", core::MetricsWriter::Type::kCounter,
             "Time spent storing windows, by stage.");
    const std::pair<const char*, double> stages[] = {{"enrich", c.enrich_seconds},
                                                     {"raw", c.raw_seconds},
                                                     {"counts", c.counts_seconds},
                                                     {"realtime", c.realtime_seconds}};
    for (const auto& [stage, seconds] : stages) {
      w.Sample("kurz_worker_store_seconds_total", {{"stage", stage}}, seconds);
    }
    w.Gauge("kurz_worker_lag_messages",
            "Messages in this worker's partitions not stored yet (high watermark minus stored "
            "position).",
            static_cast<double>(c.lag));
    w.Gauge("kurz_worker_partitions", "Partitions assigned to this worker.",
            static_cast<double>(c.partitions));
  }

  const service::ClickConsumer& consumer_;
};

}  // namespace

int Worker(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2)) {
    std::fputs(kWorkerHelp, stdout);
    return 0;
  }
  auto flags = Flags::Parse(argc, argv, 2, WorkerFlagNames());
  if (!flags) return WorkerFail(flags.error().detail, kExitUsage);
  auto config = LoadWorkerConfig(*flags);
  if (!config) return WorkerFail(config.error().detail, kExitUsage);

  const sigset_t signals = BlockStopSignals();

  // Every URL is checked before anything is contacted.
  auto raw = OpenRawClickStore(config->analytics);
  if (!raw) return WorkerFail("--analytics: " + raw.error().detail, kExitUsage);
  adapters::EventOptions event_options;
  event_options.group = config->group;
  event_options.session_timeout = std::chrono::milliseconds(config->session_timeout_ms);
  auto source = OpenClickSource(config->events, event_options);
  if (!source) return WorkerFail("--events: " + source.error().detail, kExitUsage);
  auto shared = OpenSharedTier(config->cache, adapters::CacheOptions{config->cache_namespace});
  if (!shared) return WorkerFail("--cache: " + shared.error().detail, kExitUsage);
  auto user_agents = adapters::uap::UapParser::Load(config->uap_regexes);
  if (!user_agents) {
    return WorkerFail(
        "cannot load --uap-regexes " + config->uap_regexes + ": " + user_agents.error().detail,
        kExitUsage);
  }
  auto backends =
      OpenDatabase(DatabaseUrl(config->data_dir, config->database), adapters::DatabaseOptions{});
  if (!backends) return WorkerFail("cannot open the database: " + backends.error().detail);
  if (auto schema = (*raw)->EnsureSchema(); !schema) {
    return WorkerFail("cannot create the raw clicks table: " + schema.error().detail);
  }

  // Visitor ids and locations come in the messages: the aggregator needs neither a secret nor
  // a GeoIP database here.
  adapters::geoip::NoGeoLocator no_geo;
  analytics::Aggregator aggregator(**user_agents, no_geo, std::string());
  std::array<std::byte, 8> id{};
  service::RandomBytes(id);
  service::ClickConsumer::Options options;
  options.stream = config->group + "/" + config->events.substr(config->events.rfind('/') + 1);
  options.batch_prefix =
      "worker-" + service::ToHex(std::string_view(reinterpret_cast<const char*>(id.data()), 8));
  options.flush_interval = std::chrono::milliseconds(config->flush_interval_ms);
  service::ClickConsumer consumer(**source, *backends->click_log, **raw, shared->realtime,
                                  aggregator, options);

  WorkerHandler handler(consumer);
  http::ServerOptions server_options;
  server_options.host = config->listen_host;
  server_options.port = config->listen_port;
  http::Server server(server_options, handler);
  auto port = server.Listen();
  if (!port) {
    return WorkerFail("cannot listen on " + config->listen_host + ":" +
                      std::to_string(config->listen_port) + ": " + port.error().detail);
  }
  if (auto started = consumer.Start(); !started) {
    return WorkerFail("cannot join the consumer group: " + started.error().detail);
  }
  std::thread signal_thread([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "kurz worker: %s received, storing the open window\n",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Stop(std::chrono::milliseconds(1000));
  });
  std::fprintf(stderr, "kurz worker: group %s on %s, counts to %s, raw clicks to %s%s%s\n",
               config->group.c_str(), config->events.c_str(), backends->description.c_str(),
               config->analytics.c_str(), shared->realtime ? ", real-time counters to " : "",
               shared->realtime ? shared->description.c_str() : "");
  // The line scripts and tests wait for (as `kurz serve` prints it): /metrics, /healthz, /readyz.
  std::printf("kurz listening on http://%s:%u\n", config->listen_host.c_str(),
              static_cast<unsigned>(*port));
  std::fflush(stdout);

  server.Run();
  consumer.Stop();
  if (signal_thread.joinable()) {
    // Wakes the sigwait above when Run ended on its own (SIGTERM is blocked in every thread).
    // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread): the signal is blocked, it kills nothing
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
  }
  const service::ClickConsumer::Counters c = consumer.counters();
  std::fprintf(stderr, "kurz worker: stopped (%llu messages read, %llu clicks stored)\n",
               static_cast<unsigned long long>(c.consumed),
               static_cast<unsigned long long>(c.stored));
  return 0;
}

}  // namespace kurz::app
