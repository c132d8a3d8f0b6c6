// Link options across two `kurz serve` instances on one PostgreSQL and one Redis: a PATCH on one
// is the very next answer of the other, and a click budget holds across both.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_support.hpp"
#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using namespace cluster_support;
using nlohmann::json;

constexpr const char* kChrome =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36";

TEST(ClusterOptionsTest, PatchOnOneInstanceIsTheNextAnswerOfTheOther) {
  KurzPair cluster;
  const std::string before = UniqueUrl("patch-before", 1);
  const std::string code = Create(cluster.AdminA(), before);
  // B has it in its L1 (and Redis has it).
  ASSERT_EQ(RedirectProblem(cluster.PortB(), code, before), "");
  ASSERT_EQ(RedirectProblem(cluster.PortB(), code, before), "");

  const std::string after = UniqueUrl("patch-after", 1);
  Reply patched = cluster.AdminA().Patch("/v1/urls/" + code, {{"url", after}});
  Expect(patched, 200, "PATCH on A");
  // The invalidation travels over Redis pub/sub: allow it a moment, then it must hold.
  std::string problem = "not polled";
  WaitUntil(
      [&] {
        problem = RedirectProblem(cluster.PortB(), code, after);
        return problem.empty();
      },
      milliseconds(2000), milliseconds(5));
  EXPECT_EQ(problem, "") << cluster.Describe();
  // And it stays changed (no stale fill brings the old URL back).
  for (int i = 0; i < 20; ++i) EXPECT_EQ(RedirectProblem(cluster.PortB(), code, after), "");
  EXPECT_EQ(cluster.AdminB().Get("/v1/urls/" + code).Json()["url"], after);
}

TEST(ClusterOptionsTest, AClickBudgetHoldsAcrossInstances) {
  KurzPair cluster;
  Reply created =
      cluster.AdminA().Post("/v1/urls", {{"url", UniqueUrl("budget", 1)}, {"max_clicks", 30}});
  Expect(created, 201, "create with max_clicks");
  const std::string path = "/" + created.Json()["code"].get<std::string>();
  std::atomic<int> redirects = 0;
  std::atomic<int> gone = 0;
  std::atomic<int> other = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, port = cluster.Port(t % 2)] {
      for (int i = 0; i < 15; ++i) {
        const int status = Call(port, "GET", path, {{"User-Agent", kChrome}}).status;
        if (status == 301) {
          ++redirects;
        } else if (status == 410) {
          ++gone;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(redirects.load(), 30) << cluster.Describe();
  EXPECT_EQ(gone.load(), 30);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(cluster.AdminB().Get("/v1/urls" + path).Json()["clicks_left"], 0);
}

}  // namespace
}  // namespace kurz::testing
