// The click pipeline at scale (issue 6): `kurz serve --events kafka://…` publishes click events
// to a Kafka cluster — librdkafka's mock cluster run as its own process (tools/kafka_mock:
// 3 brokers, 12 partitions, reached over TCP like any cluster) — and `kurz worker`s consume
// them into ClickHouse (raw clicks), PostgreSQL (the counts the stats API reads) and Redis
// (real-time counters). Real ClickHouse, PostgreSQL and Redis from scripts/services
// (KURZ_TEST_CLICKHOUSE_URL, KURZ_TEST_POSTGRES_URL, KURZ_TEST_REDIS_URL); every test has its
// own mock cluster, PostgreSQL schema, ClickHouse database and Redis namespace.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_support.hpp"
#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"
#include "support/kurz_process.hpp"

#ifndef KURZ_KAFKA_MOCK
#error "KURZ_KAFKA_MOCK must name the mock cluster tool"
#endif

namespace kurz::testing {
namespace {

using namespace cluster_support;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kSessionTimeoutMs = 3000;

// The mock Kafka cluster as a child process; SIGUSR1 takes every broker down, SIGUSR2 up.
class MockKafka {
 public:
  MockKafka() : dir_("kpt-kafka") {
    const std::filesystem::path file = dir_.path() / "bootstrap";
    std::vector<std::string> args = {
        KURZ_KAFKA_MOCK, "--brokers",        "3",          "--partitions", "12", "--topic",
        "click-events",  "--bootstrap-file", file.string()};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const std::string log = (dir_.path() / "mock.log").string();
      if (std::freopen(log.c_str(), "w", stdout) == nullptr) ::_exit(127);
      if (std::freopen(log.c_str(), "a", stderr) == nullptr) ::_exit(127);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (pid_ < 0) throw std::runtime_error("fork for the mock Kafka cluster failed");
    const bool up = WaitUntil(
        [&] {
          std::ifstream in(file);
          return static_cast<bool>(std::getline(in, bootstraps_)) && !bootstraps_.empty();
        },
        milliseconds(10000));
    if (!up) throw std::runtime_error("the mock Kafka cluster did not start");
  }
  ~MockKafka() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  const std::string& bootstraps() const { return bootstraps_; }
  std::string Url() const { return "kafka://" + bootstraps_ + "/click-events"; }
  void Down() { ::kill(pid_, SIGUSR1); }
  void Up() { ::kill(pid_, SIGUSR2); }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::string bootstraps_;
};

// A fresh ClickHouse database on the test server, dropped at the end.
class ClickHouseDatabase {
 public:
  ClickHouseDatabase() {
    const std::string server = RequiredEnv("KURZ_TEST_CLICKHOUSE_URL", "clickhouse");
    const auto slash = server.rfind('/');
    const auto colon = server.rfind(':', slash);
    port_ = std::stoi(server.substr(colon + 1, slash - colon - 1));
    name_ = "kpt_" + RandomSuffix();
    url_ = server.substr(0, slash + 1) + name_;
  }
  ~ClickHouseDatabase() { Query("DROP DATABASE IF EXISTS " + name_); }
  ClickHouseDatabase(const ClickHouseDatabase&) = delete;
  ClickHouseDatabase& operator=(const ClickHouseDatabase&) = delete;

  const std::string& url() const { return url_; }
  // The answer's body; throws unless 200.
  std::string Query(const std::string& sql) const {
    auto reply = Request(static_cast<std::uint16_t>(port_), "POST", "/", {}, sql);
    if (!reply || reply->status != 200) {
      throw std::runtime_error("ClickHouse: " + sql + ": " + (reply ? reply->body : "no answer"));
    }
    return reply->body;
  }
  // Distinct events stored for `code`.
  std::int64_t Events(const std::string& code) const {
    return std::stoll(
        Query("SELECT uniqExact(event_id) FROM " + name_ + ".clicks WHERE code = '" + code + "'"));
  }

 private:
  int port_ = 0;
  std::string name_;
  std::string url_;
};

// One thread visiting `codes` in turn on `port` until stopped, `pause` between redirects,
// counting 301s and anything else.
class Traffic {
 public:
  Traffic(int port, std::vector<std::string> codes, milliseconds pause = milliseconds(0))
      : codes_(std::move(codes)), thread_([this, port, pause] {
          for (std::size_t i = 0; !stop_.load(); ++i) {
            (Visit(port, codes_[i % codes_.size()]).status == 301 ? answered_ : failed_)
                .fetch_add(1);
            if (pause.count() > 0) std::this_thread::sleep_for(pause);
          }
        }) {}
  ~Traffic() { Stop(); }
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int answered() const { return answered_.load(); }
  int failed() const { return failed_.load(); }

 private:
  std::vector<std::string> codes_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::atomic<int> failed_{0};
  std::thread thread_;
};

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest()
      : schema_(RequiredEnv("KURZ_TEST_POSTGRES_URL", "postgres")),
        redis_(RequiredEnv("KURZ_TEST_REDIS_URL", "redis")),
        namespace_("kpt" + RandomSuffix()) {}

  std::unique_ptr<KurzProcess> Serve() {
    auto p = std::make_unique<KurzProcess>(
        KurzBinary(),
        std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--database", schema_.Url(),
                                 "--events", kafka_.Url(), "--spool-dir",
                                 (spool_.path() / "spool").string(), "--bootstrap-key",
                                 std::string(kBootstrapKey), "--cache", redis_, "--cache-namespace",
                                 namespace_, "--threads", "2", "--rate-limit-api", "0"});
    if (!p->Start()) throw std::runtime_error("kurz serve: " + p->Describe());
    return p;
  }

  std::unique_ptr<KurzProcess> Worker() {
    auto p = std::make_unique<KurzProcess>(
        KurzBinary(),
        std::vector<std::string>{"worker", "--events", kafka_.Url(), "--group", "analytics",
                                 "--analytics", clickhouse_.url(), "--database", schema_.Url(),
                                 "--cache", redis_, "--cache-namespace", namespace_, "--listen",
                                 "127.0.0.1:0", "--flush-interval-ms", "200",
                                 "--session-timeout-ms", std::to_string(kSessionTimeoutMs)});
    if (!p->Start()) throw std::runtime_error("kurz worker: " + p->Describe());
    return p;
  }

  // Human clicks of `code` in the stats API (today and yesterday: a run may cross midnight).
  static std::int64_t Clicks(const Api& api, const std::string& code) {
    Reply r = api.Get("/v1/urls/" + code + "/stats");
    if (r.status != 200) throw std::runtime_error("stats: " + r.Describe());
    return r.Json().at("total_clicks").get<std::int64_t>();
  }

  // Waits until the stats of `codes` add up to `expected` (or the time is up); returns the sum.
  static std::int64_t WaitForTotal(const Api& api, const std::vector<std::string>& codes,
                                   std::int64_t expected, milliseconds limit) {
    std::int64_t total = 0;
    WaitUntil(
        [&] {
          total = 0;
          for (const std::string& code : codes) total += Clicks(api, code);
          return total >= expected;
        },
        limit);
    // Settled: nothing arrives late and nothing counts twice.
    std::this_thread::sleep_for(milliseconds(1500));
    total = 0;
    for (const std::string& code : codes) total += Clicks(api, code);
    return total;
  }

  std::vector<std::string> MakeLinks(const Api& api, int n) {
    std::vector<std::string> codes;
    for (int i = 0; i < n; ++i) {
      codes.push_back(Create(api, "https://example.com/pipeline/" + std::to_string(i)));
    }
    return codes;
  }

  TempDir spool_{"kpt-spool"};
  MockKafka kafka_;
  PostgresSchema schema_;
  ClickHouseDatabase clickhouse_;
  std::string redis_;
  std::string namespace_;
};

TEST_F(PipelineTest, EveryRedirectIsCountedExactlyOnceThroughKafka) {
  auto worker = Worker();
  auto serve = Serve();
  const Api api(serve->port(), std::string(kBootstrapKey));
  const std::vector<std::string> codes = MakeLinks(api, 5);
  constexpr int kRedirects = 300;
  for (int i = 0; i < kRedirects; ++i) {
    ASSERT_EQ(Visit(serve->port(), codes[i % codes.size()]).status, 301);
  }
  EXPECT_EQ(WaitForTotal(api, codes, kRedirects, seconds(60)), kRedirects);
  for (const std::string& code : codes) {
    EXPECT_EQ(Clicks(api, code), kRedirects / 5) << code;
    EXPECT_EQ(clickhouse_.Events(code), kRedirects / 5) << code;
  }
  EXPECT_EQ(Metric(worker->port(), "kurz_worker_clicks_stored_total"), kRedirects);
  EXPECT_EQ(Metric(worker->port(), "kurz_worker_partitions"), 12);
  EXPECT_EQ(Metric(serve->port(), "kurz_events_delivered_total"), kRedirects);
  EXPECT_EQ(Metric(serve->port(), "kurz_events_dropped_total"), 0);
  // Real-time counters in Redis, read through the stats API.
  json stats = api.Get("/v1/urls/" + codes[0] + "/stats").Json();
  ASSERT_TRUE(stats.contains("realtime")) << stats.dump();
  EXPECT_EQ(stats["realtime"]["clicks"], kRedirects / 5);
  EXPECT_EQ(stats["realtime"]["clicks_last_hour"], kRedirects / 5);
  EXPECT_EQ(stats["realtime"]["visitors_today"], 1);  // every click came from 127.0.0.1
}

TEST_F(PipelineTest, AKilledWorkersPartitionsMoveAndTotalsStayExact) {
  auto first = Worker();
  auto second = Worker();
  auto serve = Serve();
  const Api api(serve->port(), std::string(kBootstrapKey));
  const std::vector<std::string> codes = MakeLinks(api, 40);
  // Both members hold partitions before the traffic starts.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Metric(first->port(), "kurz_worker_partitions") > 0 &&
               Metric(second->port(), "kurz_worker_partitions") > 0;
      },
      seconds(30)));
  Traffic traffic(serve->port(), codes);
  // Kill one member after it has stored part of the stream.
  ASSERT_TRUE(WaitUntil(
      [&] { return Metric(second->port(), "kurz_worker_clicks_stored_total") > 0; }, seconds(30)));
  second->Kill();
  std::this_thread::sleep_for(seconds(2));
  traffic.Stop();
  const int answered = traffic.answered();
  EXPECT_EQ(traffic.failed(), 0);
  EXPECT_GT(answered, 200);
  EXPECT_EQ(WaitForTotal(api, codes, answered, seconds(60)), answered);
  // The survivor took every partition.
  EXPECT_EQ(Metric(first->port(), "kurz_worker_partitions"), 12);
  std::int64_t raw = 0;
  for (const std::string& code : codes) raw += clickhouse_.Events(code);
  EXPECT_EQ(raw, answered);
}

TEST_F(PipelineTest, EveryBrokerDownForTenSecondsLosesNoClickAndFailsNoRedirect) {
  auto worker = Worker();
  auto serve = Serve();
  const Api api(serve->port(), std::string(kBootstrapKey));
  const std::vector<std::string> codes = MakeLinks(api, 10);
  Traffic traffic(serve->port(), codes, milliseconds(2));
  std::this_thread::sleep_for(seconds(1));
  kafka_.Down();
  const int before_outage = traffic.answered();
  std::this_thread::sleep_for(seconds(7));
  // The instance stays ready: Kafka away costs nothing but the spool.
  int ready_status = 0;
  const std::string events_check = ReadyCheck(serve->port(), "events", &ready_status);
  std::this_thread::sleep_for(seconds(3));
  const int during_outage = traffic.answered() - before_outage;
  kafka_.Up();
  std::this_thread::sleep_for(seconds(2));
  traffic.Stop();
  std::printf("brokers down 10 s: %d redirects answered during the outage, %d failed\n",
              during_outage, traffic.failed());
  EXPECT_EQ(traffic.failed(), 0);
  EXPECT_GT(during_outage, 100);
  EXPECT_EQ(ready_status, 200);
  EXPECT_TRUE(events_check.starts_with("degraded: kafka unreachable")) << events_check;
  EXPECT_EQ(WaitForTotal(api, codes, traffic.answered(), seconds(90)), traffic.answered());
  EXPECT_GT(Metric(serve->port(), "kurz_events_spooled_total"), 0);
  EXPECT_EQ(Metric(serve->port(), "kurz_events_dropped_total"), 0);
}

TEST_F(PipelineTest, KcatReadsWellFormedEventsKeyedByCode) {
  auto serve = Serve();
  const Api api(serve->port(), std::string(kBootstrapKey));
  const std::vector<std::string> codes = MakeLinks(api, 3);
  constexpr int kRedirects = 30;
  for (int i = 0; i < kRedirects; ++i) {
    ASSERT_EQ(Call(serve->port(), "GET", "/" + codes[i % 3],
                   {{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Firefox/120.0"},
                    {"Referer", "https://news.example.org/item?id=1"}})
                  .status,
              301);
  }
  ASSERT_TRUE(
      WaitUntil([&] { return Metric(serve->port(), "kurz_events_delivered_total") == kRedirects; },
                seconds(30)));
  RunResult kcat = RunToExit("/usr/bin/kcat",
                             {"-b", kafka_.bootstraps(), "-C", "-t", "click-events", "-o",
                              "beginning", "-e", "-q", "-f", "%k\t%s\n"},
                             {}, seconds(30));
  ASSERT_TRUE(kcat.status.Success()) << Describe(kcat);
  std::istringstream lines(kcat.out);
  std::string line;
  std::set<std::string> ids;
  int events = 0;
  while (std::getline(lines, line)) {
    const auto tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string key = line.substr(0, tab);
    const json event = json::parse(line.substr(tab + 1));
    EXPECT_EQ(event.at("v"), 1);
    EXPECT_EQ(event.at("code"), key);
    EXPECT_NE(std::find(codes.begin(), codes.end(), key), codes.end()) << key;
    EXPECT_EQ(event.at("id").get<std::string>().size(), 32u);
    EXPECT_EQ(event.at("visitor").get<std::string>().size(), 32u);
    EXPECT_TRUE(event.at("ts").is_number_integer());
    EXPECT_EQ(event.at("ua"), "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Firefox/120.0");
    EXPECT_EQ(event.at("referrer"), "https://news.example.org/item?id=1");
    EXPECT_EQ(event.at("country"), "ZZ");
    EXPECT_EQ(event.at("head"), false);
    EXPECT_FALSE(event.contains("ip"));  // the address never leaves the server
    ids.insert(event.at("id").get<std::string>());
    ++events;
  }
  EXPECT_EQ(events, kRedirects);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kRedirects));
}

}  // namespace
}  // namespace kurz::testing
