// Two `kurz serve` instances on one PostgreSQL and one Redis: what one instance does is seen by
// the other, codes never collide, the API rate limit is shared, and
// the pair rides out Redis and PostgreSQL going away and coming back.
//
// The shared test servers come from scripts/services/{postgres,redis} (KURZ_TEST_POSTGRES_URL,
// KURZ_TEST_REDIS_URL); every test gets its own PostgreSQL schema and Redis key namespace. The
// fault tests stop servers of their own (a private redis-server, a private PostgreSQL made by
// scripts/services/postgres in a temp dir), so they disturb no other test.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_support.hpp"
#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"

namespace kurz::testing {
namespace {

using namespace cluster_support;

using nlohmann::json;

// Generous bounds: the tests assert that things happen, the printed figures say how fast.
constexpr milliseconds kPropagation{2000};

// ----- What one instance does, the other sees (one PostgreSQL, one Redis) -----

TEST(ClusterTest, LinkMadeOnOneInstanceWorksOnTheOther) {
  KurzPair cluster;
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
  KurzPair cluster;
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
  KurzPair cluster;
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
  KurzPair cluster;
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
  KurzPair cluster;
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
  PairOptions options;
  options.args_a = options.args_b = {"--rate-limit-api", std::to_string(kBurst)};
  KurzPair cluster(options);
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

// ----- Redis or PostgreSQL going away: redirects keep answering, the pair recovers -----

TEST(ClusterFaultTest, RedisStoppedDuringTrafficFailsNoRedirect) {
  OwnRedis redis;
  redis.Start();
  PairOptions options;
  options.cache_url = redis.Url();
  KurzPair cluster(options);
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
  PairOptions options;
  options.database_url = postgres.Url();
  KurzPair cluster(options);
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
