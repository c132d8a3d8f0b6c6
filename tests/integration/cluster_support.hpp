#pragma once

// The harness of the tests that run several kurz instances and servers of their own
// (cluster_test, failover_test, replica_test, pipeline_test): two kurz instances on one database
// and cache, private PostgreSQL and Redis servers made by scripts/services/*, a fresh schema of the
// shared test PostgreSQL, traffic generators and the small probes the tests assert with. The test
// files hold only tests (and their fixtures).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"
#include "support/kurz_process.hpp"

namespace kurz::testing::cluster_support {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ----- Time and polling -----

double MillisSince(Clock::time_point start);
double MillisBetween(Clock::time_point from, Clock::time_point to);
double Median(std::vector<double> v);

// Polls `done` every `every` until it holds or `limit` passes; the last answer.
bool WaitUntil(const std::function<bool()>& done, milliseconds limit,
               milliseconds every = milliseconds(20));

// ----- Names, URLs, environment -----

// 16 random hex digits, for schema, namespace and URL names that no other run uses.
std::string RandomSuffix();

// `url` with one more query parameter.
std::string WithParam(const std::string& url, const std::string& param);
// A postgres:// URL with `schema` as the only one on the search_path.
std::string WithSearchPath(const std::string& url, const std::string& schema);
// The port of a postgres://user@host:port/db URL ("" when it has none).
std::string UrlPort(const std::string& url);

// https://example.com/<suite>/<test>/<tag>/<n>?run=<random>: a URL no other test or run makes.
std::string UniqueUrl(std::string_view tag, int n);

// The value of a test server variable; throws (failing the test, never skipping it) with the
// commands that start the server when it is unset: `scripts/services/<service> <start>` and
// `export <name>=$(scripts/services/<service> <url>)`.
std::string RequiredEnv(const char* name, const char* service, const char* start = "start",
                        const char* url = "url");
// $KURZ_TEST_POSTGRES_URL, the shared test PostgreSQL (RequiredEnv).
std::string SharedPostgresUrl();

// ----- Processes and ports -----

std::string Describe(const RunResult& r);

bool PortIsFree(int port);
// The first of `n` consecutive free ports in [first, first + count) (each of them also free at
// +offset when offset is not 0: a Redis cluster node's bus port), below 32768 (outside the
// ephemeral range), starting at a point spread by pid so that parallel runs rarely collide.
int FreePorts(int first, int count, int n = 1, int offset = 0);
inline int FreePort(int first, int count) { return FreePorts(first, count); }

// Runs a scripts/services/<service> command with `env`, from /tmp (the PostgreSQL tools run as
// the postgres user, who cannot enter RunToExit's private working directory).
RunResult ServiceScript(const std::string& service, const std::string& command, const EnvVars& env);

// psql -tA on `url`: the output without the trailing newline; throws on failure.
std::string Psql(const std::string& url, const std::string& sql);

// pg_ctl <args> on the data directory `data_dir`, as the server's owner (postgres when root).
// Throws on failure.
void PgCtl(const std::string& data_dir, const std::string& args);
// pg_ctl -m immediate stop of the PostgreSQL server whose files are in `dir` (made by
// scripts/services/postgres): every backend dies at once, as in a crash; its data stays.
void StopPostgresImmediately(const std::string& dir);

// ----- HTTP probes -----

inline Reply Visit(int port, const std::string& code) { return Call(port, "GET", "/" + code); }

// POST /v1/urls expecting 201; returns the code.
std::string Create(const Api& api, const std::string& url);

// "" when GET /<code> answers 301 to `url`, else what it answered.
std::string RedirectProblem(int port, const std::string& code, const std::string& url);

// Polls GET /<code> on `port` (every millisecond or so) until it answers `status`; the time that
// took, or nullopt when it did not within `limit`. `polls`, when given, gets the number of
// requests it took.
std::optional<double> TimeUntilStatus(int port, const std::string& code, int status,
                                      milliseconds limit = milliseconds(2000),
                                      int* polls = nullptr);

// A counter's value from GET /metrics (the sum over its label sets); -1 when absent.
double Metric(int port, std::string_view name);
// The value of one series "name{labels} value" (or "name value") in exposition `text`; -1 when
// absent.
double SeriesValue(const std::string& text, const std::string& series);

// GET /readyz's checks.<name> ("" when the body has none); `status` gets the HTTP status.
std::string ReadyCheck(int port, const std::string& name, int* status = nullptr);

// ----- Servers of the tests' own -----

// A fresh schema <prefix><random> in the server at `server_url`, dropped (CASCADE) on
// destruction.
class PostgresSchema {
 public:
  explicit PostgresSchema(std::string server_url, std::string_view prefix = "kit_");
  ~PostgresSchema();
  PostgresSchema(const PostgresSchema&) = delete;
  PostgresSchema& operator=(const PostgresSchema&) = delete;

  const std::string& name() const { return name_; }
  // The server URL with the schema as the only one on the search_path.
  std::string Url() const { return WithSearchPath(server_url_, name_); }

 private:
  std::string server_url_;
  std::string name_;
};

// A redis-server of the test's own (no persistence), a child killed with the test process.
class OwnRedis {
 public:
  OwnRedis();
  ~OwnRedis() { Kill(); }
  OwnRedis(const OwnRedis&) = delete;
  OwnRedis& operator=(const OwnRedis&) = delete;

  // Starts it (again, on the same port) and waits until it answers PING; throws on failure.
  void Start();
  // SIGKILL, as in a crash.
  void Kill();

  std::string Url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  bool Answers() const;
  bool Exited();

  int port_;
  TempDir dir_;
  pid_t pid_ = -1;
};

// A private 3-master Redis cluster (no replicas) made by scripts/services/redis cluster-start on
// three free ports in 17100-17499 (their bus ports, +10000, free too), in a directory of its
// own; stopped and removed on destruction.
class OwnRedisCluster {
 public:
  OwnRedisCluster();
  ~OwnRedisCluster() { Cleanup(); }
  OwnRedisCluster(const OwnRedisCluster&) = delete;
  OwnRedisCluster& operator=(const OwnRedisCluster&) = delete;

  int Port(int i) const { return first_port_ + i; }
  std::string Url() const;

  // SIGKILL of node i (a master), as in a crash.
  void Kill(int i);
  // A node's "cluster_state" (ok / fail), "" when it does not answer.
  std::string State(int i) const;

 private:
  RunResult Script(const std::string& command) const;
  void Cleanup();

  int first_port_;
  std::string dir_;
};

// A PostgreSQL server of the test's own, made and started by scripts/services/postgres in a
// private directory on a free port in 29000-29999; removed on destruction.
class OwnPostgres {
 public:
  OwnPostgres();
  ~OwnPostgres() { Script("stop"); }
  OwnPostgres(const OwnPostgres&) = delete;
  OwnPostgres& operator=(const OwnPostgres&) = delete;

  // initdb (first time) and start; throws on failure.
  void Start();
  // pg_ctl -m immediate stop: every backend dies at once, as in a crash.
  void StopImmediately() { StopPostgresImmediately(dir_); }

  std::string Url() const;

 private:
  RunResult Script(const std::string& command) const;

  int port_;
  std::string dir_;
};

// A private PostgreSQL primary and a streaming replica of it, made by scripts/services/postgres
// on free ports in 27500-27999 in directories of their own; both (whatever became of them)
// stopped and removed on destruction.
class OwnPrimaryAndReplica {
 public:
  OwnPrimaryAndReplica();
  ~OwnPrimaryAndReplica();
  OwnPrimaryAndReplica(const OwnPrimaryAndReplica&) = delete;
  OwnPrimaryAndReplica& operator=(const OwnPrimaryAndReplica&) = delete;

  // initdb + start the primary, then pg_basebackup + start the replica; returns when it streams.
  void Start();
  // Waits until the replica has replayed everything the primary has written so far.
  bool WaitReplicated(milliseconds limit);
  // pg_ctl -m immediate stop of the primary: every backend dies at once, as in a crash.
  void CrashPrimary() { StopPostgresImmediately(primary_dir_); }
  // pg_ctl promote -w: returns when the replica accepts writes.
  void PromoteReplica() { PgCtl(replica_dir_ + "/data", "-w -t 30 promote"); }

  int primary_port() const { return primary_port_; }
  int replica_port() const { return replica_port_; }
  std::string PrimaryUrl() const;
  std::string ReplicaUrl() const;
  // The libpq multi-host URL of both, that only settles on the one that accepts writes.
  std::string MultiHostUrl() const;

 private:
  RunResult Script(const std::string& command) const;

  int primary_port_;
  int replica_port_;
  std::string primary_dir_;
  std::string replica_dir_;
};

// A streaming replica of the shared test primary ($KURZ_TEST_POSTGRES_URL) of the test's own,
// made by scripts/services/postgres replica-start in a private directory on a free port in
// 26000-26999; removed on destruction.
class OwnReplica {
 public:
  OwnReplica();
  ~OwnReplica() { Script("replica-stop"); }
  OwnReplica(const OwnReplica&) = delete;
  OwnReplica& operator=(const OwnReplica&) = delete;

  // pg_basebackup (the first time) and start, or start again after Stop(); returns when it
  // streams from the primary. Throws on failure.
  void Start();
  // pg_ctl -m immediate stop: the replica goes away at once, as in a crash; its data stays.
  void Stop() { StopPostgresImmediately(dir_); }

  std::string Url() const;

 private:
  RunResult Script(const std::string& command) const;

  int port_;
  std::string dir_;
};

// ----- Two kurz instances -----

struct PairOptions {
  std::string database_url;     // empty: a fresh schema of $KURZ_TEST_POSTGRES_URL
  std::string cache_url;        // empty: $KURZ_TEST_REDIS_URL (the pair's keys removed after)
  std::string cache_namespace;  // empty: a fresh one
  std::vector<std::string> args_a = {"--rate-limit-api", "0"};
  std::vector<std::string> args_b = {"--rate-limit-api", "0"};
};

// Two kurz instances A and B on one database, one cache and one cache namespace. A starts first
// (it migrates and makes the bootstrap admin), then B. Stopped with SIGTERM on destruction; each
// must exit cleanly.
class KurzPair {
 public:
  explicit KurzPair(const PairOptions& options = {});
  ~KurzPair();
  KurzPair(const KurzPair&) = delete;
  KurzPair& operator=(const KurzPair&) = delete;

  int PortA() const { return a_.process->port(); }
  int PortB() const { return b_.process->port(); }
  int Port(int i) const { return i == 0 ? PortA() : PortB(); }
  KurzProcess& A() { return *a_.process; }
  KurzProcess& B() { return *b_.process; }
  Api Admin(int i) const { return Api(Port(i), std::string(kBootstrapKey)); }
  Api AdminA() const { return Admin(0); }
  Api AdminB() const { return Admin(1); }
  // Both instances' command lines and logs, for failure messages.
  std::string Describe() const;

 private:
  struct Instance {
    std::unique_ptr<TempDir> data;
    std::unique_ptr<KurzProcess> process;
  };

  std::string namespace_;
  std::string shared_redis_;  // set when the keys must be removed from a shared server
  std::unique_ptr<PostgresSchema> schema_;  // declared before the instances: dropped after them
  Instance a_;
  Instance b_;
};

// ----- Traffic -----

// A short link and the URL it must redirect to.
struct Link {
  std::string code;
  std::string url;
};

// Redirects of `links` on each of `ports` from two threads per port until stopped; counts the
// answers per port and keeps the wrong ones.
class RedirectTraffic {
 public:
  RedirectTraffic(std::vector<int> ports, std::vector<Link> links);
  ~RedirectTraffic() { Stop(); }
  RedirectTraffic(const RedirectTraffic&) = delete;
  RedirectTraffic& operator=(const RedirectTraffic&) = delete;

  void Stop();

  std::int64_t Answered(std::size_t p) const;
  // Over every port.
  std::int64_t Answered() const;
  std::int64_t Failed() const;
  double MaxLatencyMs() const;
  double MaxLatencyMs(std::size_t p) const;
  // Starts the latency figures (MaxLatencyMs, Slow) afresh.
  void ResetLatency();
  // Answers that took over 100 ms.
  std::int64_t Slow(std::size_t p) const;
  std::vector<std::string> Failures() const;

 private:
  void Run(std::size_t p, int offset);

  std::vector<int> ports_;
  std::vector<Link> links_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_ = false;
  mutable std::mutex mu_;
  std::vector<std::int64_t> answered_;
  std::vector<std::int64_t> slow_;
  std::vector<double> max_latency_ms_;
  std::int64_t failed_ = 0;
  std::vector<std::string> failures_;
};

// Creates on each of `ports` from one thread per port, one after the other (a short pause
// between), until stopped; keeps every answer.
class CreateTraffic {
 public:
  struct Answer {
    Clock::time_point sent;
    Clock::time_point answered;
    int status = 0;  // 0: no answer (connection error or timeout)
    bool retry_after = false;
    std::string code;  // 201
    std::string url;
    std::string problem;  // neither 201 nor 503: what came back
  };

  explicit CreateTraffic(std::vector<int> ports);
  ~CreateTraffic() { Stop(); }
  CreateTraffic(const CreateTraffic&) = delete;
  CreateTraffic& operator=(const CreateTraffic&) = delete;

  void Stop();
  std::vector<Answer> Answers(std::size_t i) const;
  // Whether instance i's last n answers are 201s to requests sent after `since`.
  bool Recovered(std::size_t i, Clock::time_point since, int n = 3) const;

 private:
  void Run(std::size_t i, int port);

  std::vector<std::thread> threads_;
  std::atomic<bool> stop_ = false;
  mutable std::mutex mu_;
  std::vector<std::vector<Answer>> answers_;
};

}  // namespace kurz::testing::cluster_support
