// Two `kurz serve` instances on one PostgreSQL and one Redis (issue 5, deliverables 5 and 6): what
// one instance does is seen by the other, codes never collide, the API rate limit is shared, and
// the pair rides out Redis and PostgreSQL going away and coming back.
//
// The shared test servers come from scripts/services/{postgres,redis} (KURZ_TEST_POSTGRES_URL,
// KURZ_TEST_REDIS_URL); every test gets its own PostgreSQL schema and Redis key namespace. The
// fault tests stop servers of their own (a private redis-server, a private PostgreSQL made by
// scripts/services/postgres in a temp dir), so they disturb no other test.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_support.hpp"
#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"

#ifndef KURZ_SOURCE_DIR
#error "KURZ_SOURCE_DIR must name the source tree (for scripts/services/postgres)"
#endif

namespace kurz::testing {
namespace {

using namespace cluster_support;

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Generous bounds: the tests assert that things happen, the printed figures say how fast.
constexpr milliseconds kPropagation{2000};

// A redis-server of this test's own (no persistence), a child killed with the test process.
class OwnRedis {
 public:
  OwnRedis() : port_(FreePort(28000, 1000)), dir_("kct-redis") {}
  ~OwnRedis() { Kill(); }
  OwnRedis(const OwnRedis&) = delete;
  OwnRedis& operator=(const OwnRedis&) = delete;

  // Starts it (again, on the same port) and waits until it answers PING; throws on failure.
  void Start() {
    if (pid_ > 0) return;
    std::vector<std::string> args = {"/usr/bin/redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--daemonize",
                                     "no",
                                     "--dir",
                                     dir_.path().string(),
                                     "--logfile",
                                     (dir_.path() / "redis.log").string()};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (pid < 0) throw std::runtime_error("fork for redis-server failed");
    pid_ = pid;
    const bool up = WaitUntil([&] { return Answers() || Exited(); }, milliseconds(10000));
    if (!up || pid_ <= 0) {
      Kill();
      throw std::runtime_error("redis-server on port " + std::to_string(port_) +
                               " did not start (is it installed? scripts/install-deps --test)");
    }
  }

  // SIGKILL, as in a crash.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string Url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  bool Answers() const {
    const Fd fd = Connect(static_cast<std::uint16_t>(port_), "127.0.0.1", milliseconds(500));
    if (!fd || !SendRaw(fd.get(), "PING\r\n")) return false;
    char buf[16] = {};
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf - 1, 0);
    return n >= 5 && std::string_view(buf, 5) == "+PONG";
  }
  bool Exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
    return pid_ <= 0;
  }

  int port_;
  TempDir dir_;
  pid_t pid_ = -1;
};

// A PostgreSQL server of this test's own, made and started by scripts/services/postgres in a
// private directory on a free port; removed on destruction.
class OwnPostgres {
 public:
  OwnPostgres()
      : port_(FreePort(29000, 1000)),
        dir_("/tmp/kct-pg-" + std::to_string(::getpid()) + "-" + std::to_string(port_)) {}
  ~OwnPostgres() { Script("stop"); }
  OwnPostgres(const OwnPostgres&) = delete;
  OwnPostgres& operator=(const OwnPostgres&) = delete;

  // initdb (first time) and start; throws on failure.
  void Start() {
    RunResult r = Script("start");
    if (!r.status.Success())
      throw std::runtime_error("scripts/services/postgres start: " + Describe(r));
  }

  // pg_ctl -m immediate stop: every backend dies at once, as in a crash.
  void StopImmediately() { StopPostgresImmediately(dir_); }

  std::string Url() const {
    return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/kurz_test";
  }

 private:
  RunResult Script(const std::string& command) const {
    // From /tmp: initdb and pg_ctl run as the postgres user, who cannot enter RunToExit's
    // private working directory.
    return RunToExit("/bin/bash",
                     {"-c", "cd /tmp && exec \"$0\" \"$1\"",
                      std::string(KURZ_SOURCE_DIR) + "/scripts/services/postgres", command},
                     {{"KURZ_TEST_PG_DIR", dir_}, {"KURZ_TEST_PG_PORT", std::to_string(port_)}},
                     std::chrono::seconds(120));
  }

  int port_;
  std::string dir_;
};

struct ClusterOptions {
  std::string database_url;  // empty: a fresh schema on $KURZ_TEST_POSTGRES_URL
  std::string cache_url;     // empty: $KURZ_TEST_REDIS_URL
  std::vector<std::string> extra_args = {"--rate-limit-api", "0"};
};

// Two kurz instances A and B on one database, one Redis and one cache namespace. A starts first
// (it migrates and creates the bootstrap admin), then B.
class Cluster {
 public:
  explicit Cluster(const ClusterOptions& options = {}) : namespace_("kct_" + RandomSuffix()) {
    std::string database_url = options.database_url;
    if (database_url.empty()) {
      schema_ = std::make_unique<PostgresSchema>(RequiredEnv("KURZ_TEST_POSTGRES_URL", "postgres"));
      database_url = schema_->Url();
    }
    std::string cache_url = options.cache_url;
    if (cache_url.empty()) {
      cache_url = RequiredEnv("KURZ_TEST_REDIS_URL", "redis");
      shared_redis_ = cache_url;
    }
    for (auto* instance : {&a_, &b_}) {
      auto& slot = *instance;
      slot.data = std::make_unique<TempDir>("kct-data");
      std::vector<std::string> args = {"serve",
                                       "--listen",
                                       "127.0.0.1:0",
                                       "--data",
                                       slot.data->path(),
                                       "--database",
                                       database_url,
                                       "--cache",
                                       cache_url,
                                       "--cache-namespace",
                                       namespace_,
                                       "--bootstrap-key",
                                       std::string(kBootstrapKey)};
      args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
      slot.process = std::make_unique<KurzProcess>(KurzBinary(), std::move(args));
      if (!slot.process->Start(std::chrono::seconds(60))) {
        throw std::runtime_error("kurz instance " + std::string(instance == &a_ ? "A" : "B") +
                                 " did not start:\n" + slot.process->Describe());
      }
    }
  }

  ~Cluster() {
    for (auto* instance : {&a_, &b_}) {
      if (!instance->process || !instance->process->running()) continue;
      const ExitStatus status = instance->process->Terminate();
      EXPECT_TRUE(status.Success())
          << "kurz instance " << (instance == &a_ ? "A" : "B")
          << " did not exit cleanly on SIGTERM: " << status.Describe() << "\n"
          << instance->process->Describe();
    }
    if (!shared_redis_.empty()) {
      // The instances' keys (links are cached for 24 h) would pile up on the shared server.
      RunToExit("/bin/sh", {"-c",
                            "redis-cli -u \"$0\" --scan --pattern \"$1:*\" | "
                            "xargs -r -n 500 redis-cli -u \"$0\" del >/dev/null",
                            shared_redis_, namespace_});
    }
  }

  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int PortA() const { return a_.process->port(); }
  int PortB() const { return b_.process->port(); }
  KurzProcess& A() { return *a_.process; }
  KurzProcess& B() { return *b_.process; }
  Api AdminA() const { return Api(PortA(), std::string(kBootstrapKey)); }
  Api AdminB() const { return Api(PortB(), std::string(kBootstrapKey)); }
  // Both instances' command lines and logs, for failure messages.
  std::string Describe() const {
    return "instance A: " + a_.process->Describe() + "\ninstance B: " + b_.process->Describe();
  }

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

std::string UniqueUrl(std::string_view tag, int n) {
  static const std::string run = RandomSuffix();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return "https://example.com/cluster/" + std::string(info != nullptr ? info->name() : "x") + "/" +
         std::string(tag) + "/" + std::to_string(n) + "?run=" + run;
}

// Polls GET /<code> on `port` (every millisecond or so) until it answers `status`; the time that
// took, or nullopt when it did not within `limit`.
// `polls`, when given, gets the number of requests it took.
std::optional<double> TimeUntilStatus(int port, const std::string& code, int status,
                                      milliseconds limit = kPropagation, int* polls = nullptr) {
  const auto start = Clock::now();
  const auto deadline = start + limit;
  for (int n = 1; Clock::now() < deadline; ++n) {
    if (polls != nullptr) *polls = n;
    if (Visit(port, code).status == status) return MillisSince(start);
    std::this_thread::sleep_for(milliseconds(1));
  }
  return std::nullopt;
}

double Median(std::vector<double> v) {
  std::ranges::sort(v);
  return v.empty() ? 0 : v[v.size() / 2];
}

// ----- Deliverable 5: two instances on one PostgreSQL and one Redis -----

TEST(ClusterTest, LinkMadeOnOneInstanceWorksOnTheOther) {
  Cluster cluster;
  const std::string url = UniqueUrl("a", 1);
  const std::string code = Create(cluster.AdminA(), url);

  EXPECT_EQ(RedirectProblem(cluster.PortB(), code, url), "");
  Reply got = cluster.AdminB().Get("/v1/urls/" + code);
  Expect(got, 200, "GET /v1/urls/{code} on B");
  EXPECT_EQ(got.Json()["url"], url);
  EXPECT_EQ(got.Json()["code"], code);
  Expect(cluster.AdminB().Get("/v1/urls/" + code + "/stats"), 200, "stats on B");

  // Clicks on B are counted in the shared database: A's stats see them.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(RedirectProblem(cluster.PortB(), code, url), "");
  std::int64_t clicks = 0;
  WaitUntil(
      [&] {
        Reply stats = cluster.AdminA().Get("/v1/urls/" + code + "/stats");
        clicks = stats.status == 200 ? stats.Json()["total_clicks"].get<std::int64_t>() : -1;
        return clicks >= 3;
      },
      milliseconds(8000), milliseconds(100));
  EXPECT_EQ(clicks, 3) << "A's stats of the 3 redirects answered by B";

  // A custom code taken on B is taken on A too.
  Reply custom = cluster.AdminB().Post(
      "/v1/urls", {{"url", UniqueUrl("custom", 1)}, {"custom_code", "kct-" + code}});
  Expect(custom, 201, "custom code on B");
  Reply taken = cluster.AdminA().Post(
      "/v1/urls", {{"url", UniqueUrl("custom", 2)}, {"custom_code", "kct-" + code}});
  EXPECT_EQ(taken.status, 409) << taken.Describe();
  EXPECT_EQ(RedirectProblem(cluster.PortA(), "kct-" + code, UniqueUrl("custom", 1)), "");
}

TEST(ClusterTest, DeleteOnOneInstanceGivesGoneOnTheOther) {
  Cluster cluster;
  constexpr int kLinks = 5;
  std::vector<double> delays;
  std::vector<double> delete_ms;
  int at_first_poll = 0;
  for (int i = 0; i < kLinks; ++i) {
    const std::string url = UniqueUrl("del", i);
    const std::string code = Create(cluster.AdminA(), url);
    // B has the link in its L1 cache: a redirect is a hit. (A's create publishes the code, and
    // that message may reach B after B's first redirect cached it, dropping it once: retry.)
    ASSERT_EQ(RedirectProblem(cluster.PortB(), code, url), "");
    bool hit = false;
    for (const auto until = Clock::now() + std::chrono::seconds(1); !hit && Clock::now() < until;) {
      const double hits = Metric(cluster.PortB(), "kurz_cache_hits_total");
      ASSERT_EQ(RedirectProblem(cluster.PortB(), code, url), "");
      hit = Metric(cluster.PortB(), "kurz_cache_hits_total") > hits;
    }
    EXPECT_TRUE(hit) << "B never answered the link from its L1";

    const auto sent = Clock::now();
    Expect(cluster.AdminA().Delete("/v1/urls/" + code), 204, "DELETE on A");
    delete_ms.push_back(MillisSince(sent));
    int polls = 0;
    const std::optional<double> delay =
        TimeUntilStatus(cluster.PortB(), code, 410, kPropagation, &polls);
    ASSERT_TRUE(delay.has_value())
        << "B still does not answer 410 " << kPropagation.count()
        << " ms after the delete on A: " << Visit(cluster.PortB(), code).Describe();
    delays.push_back(*delay);
    if (polls == 1) ++at_first_poll;
    EXPECT_EQ(Visit(cluster.PortA(), code).status, 410);
  }
  std::printf(
      "[ cluster  ] delete on A -> 410 on B (link in B's L1), measured from A's 204: median "
      "%.1f ms, max %.1f ms; B answered 410 at its first poll in %d of %d (DELETE itself: "
      "median %.1f ms)\n",
      Median(delays), *std::ranges::max_element(delays), at_first_poll, kLinks, Median(delete_ms));
}

TEST(ClusterTest, ConcurrentCreatesOnBothInstancesNeverCollide) {
  Cluster cluster;
  constexpr int kPerInstance = 1000;
  constexpr int kThreadsPerInstance = 8;
  struct Created {
    std::string code;
    std::string url;
  };
  std::mutex mu;
  std::vector<Created> created;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int instance = 0; instance < 2; ++instance) {
    const Api api = instance == 0 ? cluster.AdminA() : cluster.AdminB();
    for (int t = 0; t < kThreadsPerInstance; ++t) {
      threads.emplace_back([&, api, instance, t] {
        for (int i = t; i < kPerInstance; i += kThreadsPerInstance) {
          const std::string url = UniqueUrl(instance == 0 ? "a" : "b", i);
          try {
            Reply reply = api.Post("/v1/urls", {{"url", url}});
            std::lock_guard lock(mu);
            if (reply.status == 201) {
              created.push_back({reply.Json().at("code").get<std::string>(), url});
            } else {
              failures.push_back(url + ": " + reply.Describe());
            }
          } catch (const std::exception& e) {
            std::lock_guard lock(mu);
            failures.push_back(url + ": " + e.what());
          }
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  const double create_ms = MillisSince(start);
  ASSERT_TRUE(failures.empty()) << failures.size() << " creates failed, e.g. " << failures.front();
  ASSERT_EQ(created.size(), 2u * kPerInstance);
  std::set<std::string> codes;
  for (const Created& c : created) {
    EXPECT_TRUE(codes.insert(c.code).second) << "code " << c.code << " handed out twice";
  }

  // Every link redirects to its own URL on both instances.
  threads.clear();
  const auto check_start = Clock::now();
  constexpr int kCheckers = 4;
  for (int instance = 0; instance < 2; ++instance) {
    const int port = instance == 0 ? cluster.PortA() : cluster.PortB();
    for (int t = 0; t < kCheckers; ++t) {
      threads.emplace_back([&, port, t] {
        for (std::size_t i = t; i < created.size(); i += kCheckers) {
          std::string problem = RedirectProblem(port, created[i].code, created[i].url);
          if (!problem.empty()) {
            std::lock_guard lock(mu);
            failures.push_back(std::move(problem));
          }
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << 2 * created.size()
                                << " redirects wrong, e.g. " << failures.front();
  std::printf(
      "[ cluster  ] %zu concurrent creates (%d threads per instance) in %.0f ms, all distinct; "
      "%zu redirects checked in %.0f ms\n",
      created.size(), kThreadsPerInstance, create_ms, 2 * created.size(), MillisSince(check_start));
}

TEST(ClusterTest, RevokedKeyStopsWorkingOnBothInstancesAtOnce) {
  Cluster cluster;
  Reply made = cluster.AdminA().Post("/v1/api-keys", {{"name", "to-revoke"}});
  Expect(made, 201, "POST /v1/api-keys on A");
  const std::string key = made.Json().at("key").get<std::string>();
  const json id = made.Json().at("id");
  const std::string id_path =
      "/v1/api-keys/" + (id.is_string() ? id.get<std::string>() : id.dump());

  const Api on_a(cluster.PortA(), key);
  const Api on_b(cluster.PortB(), key);
  Expect(on_b.Get("/v1/urls"), 200, "new key on B");
  Expect(on_a.Get("/v1/urls"), 200, "new key on A");
  Create(on_b, UniqueUrl("k", 1));

  Expect(cluster.AdminA().Delete(id_path), 204, "revoke on A");
  Reply after_b = on_b.Get("/v1/urls");
  EXPECT_EQ(after_b.status, 401) << "the next request on B with the revoked key: "
                                 << after_b.Describe();
  EXPECT_EQ(after_b.ErrorCode(), "unauthorized");
  EXPECT_EQ(on_b.Post("/v1/urls", {{"url", UniqueUrl("k", 2)}}).status, 401);
  EXPECT_EQ(on_a.Get("/v1/urls").status, 401);
  // The admin key is untouched.
  Expect(cluster.AdminB().Get("/v1/urls"), 200, "admin on B");
}

TEST(ClusterTest, SuspendedUserLinksGoneOnTheOtherInstanceUntilReactivated) {
  Cluster cluster;
  Reply made = cluster.AdminA().Post(
      "/v1/users", {{"email", "kct-" + RandomSuffix() + "@example.com"}, {"tier", "free"}});
  Expect(made, 201, "POST /v1/users on A");
  const std::int64_t user_id = made.Json().at("id").get<std::int64_t>();
  const std::string key = made.Json().at("api_key").get<std::string>();
  const std::string url = UniqueUrl("s", 1);
  const std::string code = Create(Api(cluster.PortA(), key), url);
  // In B's L1 cache (and A's).
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(RedirectProblem(cluster.PortB(), code, url), "");
    ASSERT_EQ(RedirectProblem(cluster.PortA(), code, url), "");
  }
  const std::string user_path = "/v1/users/" + std::to_string(user_id);

  Expect(cluster.AdminA().Patch(user_path, {{"status", "suspended"}}), 200, "suspend on A");
  EXPECT_EQ(Visit(cluster.PortA(), code).status, 410) << "A, right after the suspension";
  const std::optional<double> gone = TimeUntilStatus(cluster.PortB(), code, 410);
  EXPECT_TRUE(gone.has_value()) << "B still redirects the suspended user's link: "
                                << Visit(cluster.PortB(), code).Describe();
  EXPECT_EQ(Api(cluster.PortB(), key).Get("/v1/urls").status, 401) << "suspended user's key on B";

  Expect(cluster.AdminA().Patch(user_path, {{"status", "active"}}), 200, "reactivate on A");
  EXPECT_EQ(RedirectProblem(cluster.PortA(), code, url), "") << "A, right after reactivation";
  const std::optional<double> back = TimeUntilStatus(cluster.PortB(), code, 301);
  EXPECT_TRUE(back.has_value()) << "B does not redirect again after reactivation: "
                                << Visit(cluster.PortB(), code).Describe();
  EXPECT_EQ(RedirectProblem(cluster.PortB(), code, url), "");
  Expect(Api(cluster.PortB(), key).Get("/v1/urls"), 200, "reactivated user's key on B");
  std::printf("[ cluster  ] suspension seen on B after %.1f ms, reactivation after %.1f ms\n",
              gone.value_or(-1), back.value_or(-1));
}

TEST(ClusterTest, ApiRateLimitIsSharedBetweenInstances) {
  constexpr int kBurst = 5;
  ClusterOptions options;
  options.extra_args = {"--rate-limit-api", std::to_string(kBurst)};
  Cluster cluster(options);
  // A fresh key of its own (the admin key spent one request on it).
  Reply made = cluster.AdminA().Post("/v1/api-keys", {{"name", "limited"}});
  Expect(made, 201, "POST /v1/api-keys");
  const std::string key = made.Json().at("key").get<std::string>();

  constexpr int kRequests = 4 * kBurst;
  int allowed = 0;
  int limited[2] = {0, 0};
  std::vector<std::string> others;
  const auto start = Clock::now();
  for (int i = 0; i < kRequests; ++i) {
    const int instance = i % 2;
    Reply reply =
        Api(instance == 0 ? cluster.PortA() : cluster.PortB(), key).Get("/v1/urls?limit=1");
    if (reply.status == 200) {
      ++allowed;
    } else if (reply.status == 429) {
      ++limited[instance];
      EXPECT_TRUE(reply.Has("retry-after")) << reply.Describe();
    } else {
      others.push_back(reply.Describe());
    }
  }
  const double elapsed_ms = MillisSince(start);
  EXPECT_TRUE(others.empty()) << others.front();
  // What the limit refills while the burst runs (kBurst per second), plus one for timing.
  const int refilled = static_cast<int>(elapsed_ms / 1000.0 * kBurst);
  EXPECT_LE(allowed, kBurst + 1 + refilled)
      << "allowed " << allowed << " of " << kRequests << " requests in " << elapsed_ms
      << " ms with a shared limit of " << kBurst << "/s: the instances limit separately";
  EXPECT_GE(allowed, kBurst) << "a fresh key must get its whole burst";
  EXPECT_GT(limited[0], 0) << "A never answered 429";
  EXPECT_GT(limited[1], 0) << "B never answered 429";
  EXPECT_EQ(Metric(cluster.PortA(), "kurz_rate_limit_fallbacks_total"), 0);
  EXPECT_EQ(Metric(cluster.PortB(), "kurz_rate_limit_fallbacks_total"), 0);
  std::printf(
      "[ cluster  ] shared API limit %d/s: %d of %d alternating requests allowed in %.0f ms "
      "(429s: %d on A, %d on B)\n",
      kBurst, allowed, kRequests, elapsed_ms, limited[0], limited[1]);
}

// ----- Deliverable 6: faults -----

TEST(ClusterFaultTest, RedisStoppedDuringTrafficFailsNoRedirect) {
  OwnRedis redis;
  redis.Start();
  ClusterOptions options;
  options.cache_url = redis.Url();
  Cluster cluster(options);
  const Api a = cluster.AdminA();
  const Api b = cluster.AdminB();

  std::vector<Link> links;
  for (int i = 0; i < 30; ++i) {
    const std::string url = UniqueUrl("before", i);
    links.push_back({Create(i % 2 == 0 ? a : b, url), url});
  }
  for (int i = 0; i < 10; ++i) {  // some in L1 on both, the others only in Redis / the database
    ASSERT_EQ(RedirectProblem(cluster.PortA(), links[i].code, links[i].url), "");
    ASSERT_EQ(RedirectProblem(cluster.PortB(), links[i].code, links[i].url), "");
  }
  RedirectTraffic traffic({cluster.PortA(), cluster.PortB()}, links);
  std::this_thread::sleep_for(milliseconds(500));

  const std::int64_t before_kill = traffic.Answered();
  const auto killed_at = Clock::now();
  redis.Kill();

  // During the outage: creates work on both instances, and their links redirect on both (misses
  // that go to the database).
  std::vector<double> create_ms;
  for (int i = 0; i < 6; ++i) {
    const std::string url = UniqueUrl("outage", i);
    const auto start = Clock::now();
    Reply reply = (i % 2 == 0 ? a : b).Post("/v1/urls", {{"url", url}});
    create_ms.push_back(MillisSince(start));
    ASSERT_EQ(reply.status, 201) << "create during the Redis outage: " << reply.Describe();
    const std::string code = reply.Json().at("code").get<std::string>();
    EXPECT_EQ(RedirectProblem(cluster.PortA(), code, url), "") << "during the Redis outage";
    EXPECT_EQ(RedirectProblem(cluster.PortB(), code, url), "") << "during the Redis outage";
  }
  // /readyz says the cache is down.
  for (int port : {cluster.PortA(), cluster.PortB()}) {
    int status = 0;
    std::string check;
    const bool down = WaitUntil(
        [&] {
          check = ReadyCheck(port, "cache", &status);
          return status == 503 && !check.empty() && check != "ok";
        },
        milliseconds(2000));
    EXPECT_TRUE(down) << "/readyz on port " << port << " during the Redis outage: HTTP " << status
                      << ", cache: " << check;
    EXPECT_EQ(ReadyCheck(port, "database"), "ok");
  }
  std::this_thread::sleep_until(killed_at + milliseconds(2000));
  const std::int64_t during_outage = traffic.Answered() - before_kill;
  const double outage_latency = traffic.MaxLatencyMs();

  redis.Start();
  const auto restarted_at = Clock::now();
  for (int port : {cluster.PortA(), cluster.PortB()}) {
    int status = 0;
    const bool ready =
        WaitUntil([&] { return ReadyCheck(port, "cache", &status) == "ok" && status == 200; },
                  milliseconds(10000), milliseconds(50));
    EXPECT_TRUE(ready) << "/readyz on port " << port << " after Redis came back: HTTP " << status;
  }
  const double ready_ms = MillisSince(restarted_at);
  std::this_thread::sleep_for(milliseconds(300));
  traffic.Stop();

  const std::vector<std::string> failures = traffic.Failures();
  EXPECT_EQ(traffic.Failed(), 0) << "failed redirects, e.g. " << failures.front();
  EXPECT_GT(during_outage, 0) << "no redirect answered during the outage";
  EXPECT_GT(Metric(cluster.PortA(), "kurz_shared_cache_errors_total") +
                Metric(cluster.PortB(), "kurz_shared_cache_errors_total"),
            0);

  // The invalidation bus is back: a delete on A reaches B's L1 again.
  const std::string url = UniqueUrl("after", 1);
  const std::string code = Create(a, url);
  ASSERT_EQ(RedirectProblem(cluster.PortB(), code, url), "");
  ASSERT_EQ(RedirectProblem(cluster.PortB(), code, url), "");
  Expect(a.Delete("/v1/urls/" + code), 204, "DELETE on A after the outage");
  // The bus reconnects with a backoff of up to 2 s, so allow more than kPropagation.
  const std::optional<double> gone =
      TimeUntilStatus(cluster.PortB(), code, 410, milliseconds(5000));
  EXPECT_TRUE(gone.has_value()) << "B still redirects a link deleted on A after Redis came back: "
                                << Visit(cluster.PortB(), code).Describe() << "\n"
                                << cluster.Describe();
  std::printf(
      "[ cluster  ] Redis killed for 2 s: %lld redirects answered during it (%lld in all), 0 "
      "failed, slowest %.0f ms; creates during it: median %.0f ms; /readyz ok %.0f ms after "
      "restart; delete on A -> 410 on B after it: %.1f ms\n",
      static_cast<long long>(during_outage), static_cast<long long>(traffic.Answered()),
      outage_latency, Median(create_ms), ready_ms, gone.value_or(-1));
}

TEST(ClusterFaultTest, PostgresStoppedKeepsCachedRedirectsAndRecovers) {
  OwnPostgres postgres;
  postgres.Start();
  ClusterOptions options;
  options.database_url = postgres.Url();
  Cluster cluster(options);
  const Api a = cluster.AdminA();
  const Api b = cluster.AdminB();

  std::vector<Link> cached;  // in both instances' L1
  for (int i = 0; i < 10; ++i) {
    const std::string url = UniqueUrl("cached", i);
    cached.push_back({Create(i % 2 == 0 ? a : b, url), url});
    ASSERT_EQ(RedirectProblem(cluster.PortA(), cached.back().code, url), "");
    ASSERT_EQ(RedirectProblem(cluster.PortB(), cached.back().code, url), "");
  }
  // Made on A, never visited: only in Redis (written through on create).
  const std::string l2_url = UniqueUrl("l2", 1);
  const std::string l2_code = Create(a, l2_url);

  postgres.StopImmediately();
  const auto stopped_at = Clock::now();

  // Cached redirects keep answering, on both instances, from a few threads.
  RedirectTraffic traffic({cluster.PortA(), cluster.PortB()}, cached);

  // A create answers 503 with Retry-After, quickly.
  const auto start = Clock::now();
  Reply create;
  std::string create_error;
  try {
    create = a.Post("/v1/urls", {{"url", UniqueUrl("down", 1)}});
  } catch (const std::exception& e) {
    create_error = e.what();
  }
  const double create_ms = MillisSince(start);
  EXPECT_TRUE(create_error.empty()) << "no answer to a create with PostgreSQL down after "
                                    << create_ms << " ms: " << create_error;
  EXPECT_EQ(create.status, 503) << create.Describe();
  EXPECT_FALSE(create.ErrorCode().empty()) << "not a JSON error body: " << create.Describe();
  EXPECT_TRUE(create.Has("retry-after")) << create.Describe();
  EXPECT_LE(create_ms, 3000.0) << "the create took " << create_ms << " ms to fail";
  // Once more on B (its pool may notice the outage differently).
  const auto start_b = Clock::now();
  Reply create_b = b.Post("/v1/urls", {{"url", UniqueUrl("down", 2)}});
  const double create_b_ms = MillisSince(start_b);
  EXPECT_EQ(create_b.status, 503) << create_b.Describe();
  EXPECT_TRUE(create_b.Has("retry-after")) << create_b.Describe();
  EXPECT_LE(create_b_ms, 3000.0);

  EXPECT_EQ(RedirectProblem(cluster.PortB(), l2_code, l2_url), "")
      << "a link only in Redis, with PostgreSQL down";
  int ready_status = 0;
  const std::string db_check = ReadyCheck(cluster.PortA(), "database", &ready_status);
  EXPECT_EQ(ready_status, 503) << "/readyz with PostgreSQL down; database: " << db_check;
  EXPECT_NE(db_check, "ok");

  std::this_thread::sleep_until(stopped_at + milliseconds(1500));
  postgres.Start();
  const auto restarted_at = Clock::now();

  // Creates work again on both instances, without restarting them.
  std::string last;
  std::vector<Link> after;
  bool works[2] = {false, false};
  int attempt = 0;
  const bool recovered = WaitUntil(
      [&] {
        for (int i = 0; i < 2; ++i) {
          if (works[i]) continue;
          const std::string url = UniqueUrl("after", ++attempt);
          Reply reply = (i == 0 ? a : b).Post("/v1/urls", {{"url", url}});
          last = reply.Describe();
          if (reply.status != 201) return false;
          works[i] = true;
          after.push_back({reply.Json().at("code").get<std::string>(), url});
        }
        return true;
      },
      milliseconds(15000), milliseconds(100));
  const double recovery_ms = MillisSince(restarted_at);
  traffic.Stop();
  EXPECT_TRUE(recovered) << "creates still fail 15 s after PostgreSQL came back: " << last << "\n"
                         << cluster.Describe();
  for (const auto& link : after) {
    EXPECT_EQ(RedirectProblem(cluster.PortA(), link.code, link.url), "");
    EXPECT_EQ(RedirectProblem(cluster.PortB(), link.code, link.url), "");
  }
  const std::vector<std::string> failures = traffic.Failures();
  EXPECT_EQ(traffic.Failed(), 0) << "failed cached redirects, e.g. " << failures.front();
  EXPECT_GT(traffic.Answered(), 0);
  WaitUntil([&] { return ReadyCheck(cluster.PortA(), "database") == "ok"; }, milliseconds(5000));
  EXPECT_EQ(ReadyCheck(cluster.PortA(), "database"), "ok");
  std::printf(
      "[ cluster  ] PostgreSQL stopped: create -> HTTP %d (%s) in %.0f ms on A (Retry-After: %s), "
      "HTTP %d in %.0f ms on B; %lld cached redirects answered, 0 failed; creates work again "
      "%.0f ms after restart\n",
      create.status, create.ErrorCode().c_str(), create_ms, create.Header("retry-after").c_str(),
      create_b.status, create_b_ms, static_cast<long long>(traffic.Answered()), recovery_ms);
}

}  // namespace
}  // namespace kurz::testing
