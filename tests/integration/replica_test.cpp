// `kurz serve --database-replicas` on a real streaming replica: redirect misses, lists and stats
// read from the replica; a link just made never misses through replication lag; with the replica
// stopped every read still answers (from the primary) and /readyz says so; when it is back, reads
// use it again.
//
// The shared servers come from scripts/services/postgres (`start`, then `replica-start`:
// KURZ_TEST_POSTGRES_URL and KURZ_TEST_POSTGRES_REPLICA_URL). Each test has its own schema, made
// on the primary (it replicates). The outage test stops a replica of its own (the same script on
// another port and directory), so it disturbs no other test.

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "integration/cluster_support.hpp"
#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using namespace cluster_support;

using nlohmann::json;

std::string PrimaryUrl() { return SharedPostgresUrl(); }
std::string ReplicaUrl() {
  return RequiredEnv("KURZ_TEST_POSTGRES_REPLICA_URL", "postgres", "replica-start", "replica-url");
}

// kurz serve on a fresh schema of the shared primary, reading from replicas given by the test.
// L1 cache off (--cache-size 0): every redirect is a database read, so the routing shows.
class ReplicaTest : public KurzTest {
 protected:
  ReplicaTest() : schema_("krt_" + RandomSuffix()) {}

  // The replica URLs (without search_path) kurz reads from.
  virtual std::vector<std::string> Replicas() { return {ReplicaUrl()}; }

  void SetUp() override {
    Psql(PrimaryUrl(), "CREATE SCHEMA " + schema_);
    schema_made_ = true;
    std::string replicas;
    for (const std::string& url : Replicas()) {
      replicas += (replicas.empty() ? "" : ",") + WithSearchPath(url, schema_);
    }
    args_ = {"--database",          WithSearchPath(PrimaryUrl(), schema_),
             "--database-replicas", replicas,
             "--cache-size",        "0",
             "--rate-limit-api",    "0"};
    KurzTest::SetUp();
  }

  void TearDown() override {
    KurzTest::TearDown();
    if (schema_made_) Psql(PrimaryUrl(), "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  }

  std::vector<std::string> ExtraArgs() const override { return args_; }

  std::string Metrics() {
    Reply reply = Visit("/metrics");
    Expect(reply, 200, "GET /metrics");
    return reply.body;
  }
  double ReplicaReads(int n = 1) {
    return SeriesValue(Metrics(),
                       "kurz_db_reads_total{target=\"replica-" + std::to_string(n) + "\"}");
  }
  double PrimaryReads() {
    return SeriesValue(Metrics(), "kurz_db_reads_total{target=\"primary\"}");
  }

  // /readyz: its status and checks.
  std::pair<int, json> Ready() {
    Reply reply = Visit("/readyz");
    json body = json::parse(reply.body, nullptr, false);
    return {reply.status, body.is_object() && body.contains("checks") ? body["checks"] : json()};
  }

  // Waits until the link is on the replica at `replica_url` (replication is asynchronous).
  void WaitReplicated(const std::string& replica_url, const std::string& code) {
    const std::string sql =
        "SELECT count(*) FROM " + schema_ + ".urls WHERE short_code = '" + code + "'";
    const bool there = WaitUntil(
        [&] {
          try {
            return Psql(replica_url, sql) == "1";
          } catch (const std::exception&) {
            return false;  // the schema's tables may not be replayed yet
          }
        },
        milliseconds(10'000));
    ASSERT_TRUE(there) << code << " did not reach the replica " << replica_url;
  }

  std::string Create(const std::string& url) {
    return CreateLink({{"url", url}}).at("code").get<std::string>();
  }

  std::string schema_;
  bool schema_made_ = false;
  std::vector<std::string> args_;
};

TEST_F(ReplicaTest, RedirectMissesListsAndStatsReadFromTheReplica) {
  const std::string url = UniqueUrl();
  const std::string code = Create(url);
  ASSERT_NO_FATAL_FAILURE(WaitReplicated(ReplicaUrl(), code));

  const double replica_before = ReplicaReads();
  const double primary_before = PrimaryReads();
  ASSERT_GE(replica_before, 0) << Metrics();
  for (int i = 0; i < 5; ++i) {
    Reply redirect = Visit("/" + code);
    ASSERT_EQ(redirect.status, 301) << redirect.Describe();
    EXPECT_EQ(redirect.Header("location"), url);
  }
  Reply list = Admin().Get("/v1/urls");
  ASSERT_EQ(list.status, 200) << list.Describe();
  bool listed = false;
  const json listing = list.Json();
  for (const json& item : listing.at("items")) listed = listed || item.at("code") == code;
  EXPECT_TRUE(listed) << list.Describe();
  Reply stats = Admin().Get("/v1/urls/" + code + "/stats");
  EXPECT_EQ(stats.status, 200) << stats.Describe();
  Reply series = Admin().Get("/v1/urls/" + code + "/stats/timeseries?granularity=day");
  EXPECT_EQ(series.status, 200) << series.Describe();

  // 5 redirects, the list, the stats (and their link lookups): all on the replica.
  EXPECT_GE(ReplicaReads() - replica_before, 7) << Metrics();
  EXPECT_EQ(PrimaryReads(), primary_before) << Metrics();

  auto [status, checks] = Ready();
  EXPECT_EQ(status, 200) << checks.dump();
  EXPECT_EQ(checks.value("replica-1", ""), "ok") << checks.dump();

  // Clicks are written on the primary and read back from the replica.
  json counted = WaitForClicks(Admin(), code, 5, std::chrono::seconds(10));
  EXPECT_EQ(counted.value("total_clicks", 0), 5) << counted.dump();
}

TEST_F(ReplicaTest, ALinkJustCreatedRedirectsAtOnceDespiteReplicationLag) {
  // Created and visited at once: the replica may not have it yet, then the primary answers.
  for (int i = 0; i < 20; ++i) {
    const std::string url = UniqueUrl(std::to_string(i));
    const std::string code = Create(url);
    Reply redirect = Visit("/" + code);
    ASSERT_EQ(redirect.status, 301) << "link " << i << ": " << redirect.Describe();
    EXPECT_EQ(redirect.Header("location"), url);
    Reply got = Admin().Get("/v1/urls/" + code);
    EXPECT_EQ(got.status, 200) << got.Describe();
  }
  // An unknown code is still 404 (asked on the replica, then the primary).
  Reply unknown = Visit("/zzzzzzz");
  EXPECT_EQ(unknown.status, 404) << unknown.Describe();
  EXPECT_GE(SeriesValue(Metrics(), "kurz_db_replica_rechecks_total"), 1) << Metrics();
}

TEST_F(ReplicaTest, WritesGoToThePrimary) {
  const std::string code = Create(UniqueUrl());
  ASSERT_NO_FATAL_FAILURE(WaitReplicated(ReplicaUrl(), code));
  Reply deleted = Admin().Delete("/v1/urls/" + code);
  ASSERT_EQ(deleted.status, 204) << deleted.Describe();
  EXPECT_EQ(Psql(PrimaryUrl(), "SELECT deleted_at IS NOT NULL FROM " + schema_ +
                                   ".urls WHERE short_code = '" + code + "'"),
            "t");
  // The delete replicates; then the replica answers 410 too.
  const bool gone = WaitUntil([&] { return Visit("/" + code).status == 410; }, milliseconds(5000));
  EXPECT_TRUE(gone) << Visit("/" + code).Describe();
  // A replica refuses writes: had one gone there, the create or delete would have failed.
  EXPECT_EQ(Psql(ReplicaUrl(), "SELECT pg_is_in_recovery()"), "t");
}

// With a replica of its own that the test stops and starts.
class ReplicaOutageTest : public ReplicaTest {
 protected:
  std::vector<std::string> Replicas() override {
    replica_ = std::make_unique<OwnReplica>();
    replica_->Start();
    return {replica_->Url()};
  }
  void TearDown() override {
    ReplicaTest::TearDown();
    replica_.reset();
  }

  std::unique_ptr<OwnReplica> replica_;
};

TEST_F(ReplicaOutageTest, ReadsMoveToThePrimaryWhileTheReplicaIsDownAndBackAfter) {
  std::vector<std::pair<std::string, std::string>> links;  // code, url
  for (int i = 0; i < 5; ++i) {
    const std::string url = UniqueUrl(std::to_string(i));
    links.emplace_back(Create(url), url);
  }
  ASSERT_NO_FATAL_FAILURE(WaitReplicated(replica_->Url(), links.back().first));
  const double replica_before = ReplicaReads();
  Reply warm = Visit("/" + links.front().first);
  ASSERT_EQ(warm.status, 301) << warm.Describe();
  ASSERT_GT(ReplicaReads(), replica_before) << Metrics();

  replica_->Stop();

  // Every read still answers, quickly, from the primary.
  const double replica_stopped = ReplicaReads();
  double slowest_ms = 0;
  for (int round = 0; round < 3; ++round) {
    for (const auto& [code, url] : links) {
      const auto start = Clock::now();
      Reply redirect = Visit("/" + code);
      slowest_ms = std::max(
          slowest_ms, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      ASSERT_EQ(redirect.status, 301) << "round " << round << ": " << redirect.Describe();
      EXPECT_EQ(redirect.Header("location"), url);
    }
    Reply unknown = Visit("/zzzzzzz");
    EXPECT_EQ(unknown.status, 404) << unknown.Describe();
    Reply list = Admin().Get("/v1/urls?limit=10");
    EXPECT_EQ(list.status, 200) << list.Describe();
    EXPECT_EQ(list.Json().at("items").size(), links.size() + round) << list.Describe();
    Reply stats = Admin().Get("/v1/urls/" + links.front().first + "/stats");
    EXPECT_EQ(stats.status, 200) << stats.Describe();
    Reply series =
        Admin().Get("/v1/urls/" + links.front().first + "/stats/timeseries?granularity=hour");
    EXPECT_EQ(series.status, 200) << series.Describe();
    // Creates never needed the replica.
    const std::string url = UniqueUrl("during-" + std::to_string(round));
    const std::string code = Create(url);
    Reply fresh = Visit("/" + code);
    EXPECT_EQ(fresh.status, 301) << fresh.Describe();
    // Past the 1 s pause: the replica is tried again (and found down again).
    if (round == 0) std::this_thread::sleep_for(milliseconds(1200));
  }
  EXPECT_LT(slowest_ms, 2000) << "a redirect with the replica down took " << slowest_ms << " ms";
  const std::string during = Metrics();
  EXPECT_EQ(ReplicaReads(), replica_stopped) << during;
  EXPECT_GE(SeriesValue(during, "kurz_db_replica_fallbacks_total"), 1) << during;
  EXPECT_GE(SeriesValue(during, "kurz_db_replica_errors_total{replica=\"replica-1\"}"), 2)
      << during;

  // /readyz reports the replica, but the instance stays ready: the primary serves its reads.
  auto [status, checks] = Ready();
  EXPECT_EQ(status, 200) << checks.dump();
  EXPECT_EQ(checks.value("database", ""), "ok") << checks.dump();
  EXPECT_TRUE(checks.value("replica-1", "").starts_with("degraded")) << checks.dump();

  replica_->Start();  // the same data: it catches up from the primary

  // Reads use it again, without restarting kurz.
  const double replica_back = ReplicaReads();
  const bool back = WaitUntil(
      [&] {
        for (const auto& [code, url] : links) {
          if (Visit("/" + code).status != 301) return false;
        }
        return ReplicaReads() > replica_back;
      },
      milliseconds(10'000));
  EXPECT_TRUE(back) << Metrics();
  EXPECT_TRUE(
      WaitUntil([&] { return Ready().second.value("replica-1", "") == "ok"; }, milliseconds(5000)))
      << Ready().second.dump();
  EXPECT_EQ(SeriesValue(Metrics(), "kurz_db_replica_up{replica=\"replica-1\"}"), 1) << Metrics();
}

// A replica that is not there at start: kurz starts anyway and reads from the other one.
class ReplicaMissingAtStartTest : public ReplicaTest {
 protected:
  std::vector<std::string> Replicas() override {
    dead_port_ = FreePort(26000, 1000);
    return {"postgres://postgres@127.0.0.1:" + std::to_string(dead_port_) + "/kurz_test",
            ReplicaUrl()};
  }
  int dead_port_ = 0;
};

TEST_F(ReplicaMissingAtStartTest, StartsAndReadsFromTheOthers) {
  EXPECT_NE(server().Stderr().find("replica-1"), std::string::npos) << server().Stderr();
  EXPECT_NE(server().Stderr().find("is not reachable"), std::string::npos) << server().Stderr();
  const std::string url = UniqueUrl();
  const std::string code = Create(url);
  ASSERT_NO_FATAL_FAILURE(WaitReplicated(ReplicaUrl(), code));
  const double before = ReplicaReads(2);
  for (int i = 0; i < 4; ++i) {
    Reply redirect = Visit("/" + code);
    ASSERT_EQ(redirect.status, 301) << redirect.Describe();
  }
  EXPECT_GE(ReplicaReads(2) - before, 3) << Metrics();
  auto [status, checks] = Ready();
  EXPECT_EQ(status, 200) << checks.dump();
  EXPECT_TRUE(checks.value("replica-1", "").starts_with("degraded")) << checks.dump();
  EXPECT_EQ(checks.value("replica-2", ""), "ok") << checks.dump();
}

// Flag errors stop `kurz serve` at once with one line and the usage exit code.
TEST(ReplicaFlags, NeedAPostgresPrimaryAndPostgresUrls) {
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--database-replicas", "postgres://127.0.0.1:1/x"}, "needs a postgres:// --database"},
      {{"--database", "memory://", "--database-replicas", "postgres://127.0.0.1:1/x"},
       "needs a postgres:// --database"},
      {{"--database", "postgres://127.0.0.1:1/x", "--database-replicas", "mysql://u:secret@h/db"},
       "must be postgres:// URLs"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = RunToExit(KurzBinary(), args);
    EXPECT_TRUE(r.status.exited && r.status.code == 2) << Describe(r);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << Describe(r);
    EXPECT_EQ(r.err.find("secret"), std::string::npos) << "a password in the message: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace kurz::testing
