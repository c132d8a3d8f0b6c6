// Health, readiness, metrics, the OpenAPI document, request ids and rate limits
// (API.md "Operations" and "Conventions").

#include <chrono>
#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

class OperationsTest : public KurzTest {};

TEST_F(OperationsTest, Healthz) {
  Reply reply = Visit("/healthz");
  EXPECT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_FALSE(reply.Header("x-request-id").empty()) << reply.Describe();
}

TEST_F(OperationsTest, ReadyzReportsTheDatabase) {
  Reply reply = Visit("/readyz");
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  json body = reply.Json();
  ASSERT_TRUE(body["checks"].is_object()) << reply.Describe();
  EXPECT_EQ(body["checks"]["database"], "ok") << reply.Describe();
  for (const auto& [name, value] : body["checks"].items()) {
    EXPECT_EQ(value, "ok") << name << " in " << reply.Describe();
  }
}

// Sum of the samples of `metric` (any labels) in a Prometheus text exposition; -1 if absent.
double SampleSum(const std::string& text, const std::string& metric) {
  std::istringstream in(text);
  std::string line;
  double sum = -1;
  while (std::getline(in, line)) {
    if (!line.starts_with(metric)) continue;
    const char next = line.size() > metric.size() ? line[metric.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    const std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    try {
      sum = (sum < 0 ? 0 : sum) + std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      ADD_FAILURE() << "unparsable sample: " << line;
    }
  }
  return sum;
}

TEST_F(OperationsTest, MetricsInPrometheusTextFormat) {
  for (int i = 0; i < 3; ++i) Expect(Visit("/healthz"), 200, "healthz");
  Expect(Admin().Get("/v1/urls"), 200, "list");
  Reply reply = Visit("/metrics");
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_TRUE(reply.Header("content-type").starts_with("text/plain")) << reply.Describe();
  EXPECT_NE(reply.body.find("# TYPE kurz_http_requests_total counter"), std::string::npos)
      << reply.body;
  EXPECT_GT(SampleSum(reply.body, "kurz_http_requests_total"), 0) << reply.body;
  // The counters operators alert on are there, and zero after healthy traffic.
  for (const char* name : {"kurz_click_events_dropped_total", "kurz_backend_errors_total",
                           "kurz_click_events_lost_total"}) {
    EXPECT_NE(reply.body.find(std::string("\n") + name + " "), std::string::npos)
        << name << " missing:\n"
        << reply.body;
    EXPECT_EQ(SampleSum(reply.body, name), 0) << name;
  }

  // Every sample line is "name[{labels}] value".
  const std::regex sample(R"re(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEInfa]+( [0-9]+)?$)re");
  std::istringstream in(reply.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.starts_with("#")) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << "not a Prometheus sample: " << line;
  }
}

TEST_F(OperationsTest, OpenApiDocumentCoversEveryRoute) {
  Reply reply = Visit("/v1/openapi.json");
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_TRUE(reply.Header("content-type").starts_with("application/json")) << reply.Describe();
  json doc = reply.Json();
  ASSERT_TRUE(doc["openapi"].is_string()) << reply.Describe();
  EXPECT_TRUE(doc["openapi"].get<std::string>().starts_with("3.")) << doc["openapi"];
  ASSERT_TRUE(doc["paths"].is_object()) << reply.Describe();

  // Parameter names are the document's choice: compare with every "{...}" as "{}".
  std::map<std::string, json> paths;
  for (const auto& [path, item] : doc["paths"].items()) {
    paths[std::regex_replace(path, std::regex(R"(\{[^}]*\})"), "{}")] = item;
  }
  const std::vector<std::pair<std::string, std::vector<std::string>>> routes = {
      {"/v1/urls", {"get", "post"}},
      {"/v1/urls/{}", {"get", "delete"}},
      {"/v1/urls/{}/stats", {"get"}},
      {"/v1/urls/{}/stats/timeseries", {"get"}},
      {"/v1/api-keys", {"get", "post"}},
      {"/v1/api-keys/{}", {"delete"}},
      {"/v1/users", {"get", "post"}},
      {"/v1/users/{}", {"patch"}},
      {"/{}", {"get"}},
      {"/healthz", {"get"}},
      {"/readyz", {"get"}},
      {"/metrics", {"get"}},
      {"/v1/openapi.json", {"get"}},
  };
  for (const auto& [path, methods] : routes) {
    auto it = paths.find(path);
    if (it == paths.end()) {
      ADD_FAILURE() << "no path entry for " << path;
      continue;
    }
    for (const std::string& method : methods) {
      EXPECT_TRUE(it->second.contains(method)) << path << " lacks " << method;
    }
  }
}

// The operations endpoints are routes like the API's: GET and HEAD only (they used to answer
// 200 to any method), and no answer but a redirect may be stored by a cache.
TEST_F(OperationsTest, OperationsEndpointsAnswerOnlyGetAndHead) {
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/v1/openapi.json"}) {
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
      Reply reply = Call(port(), method, path);
      EXPECT_EQ(reply.status, 405) << method << " " << path << ": " << reply.Describe();
      EXPECT_EQ(reply.ErrorCode(), "method_not_allowed") << reply.Describe();
      EXPECT_EQ(reply.Header("allow"), "GET, HEAD") << method << " " << path;
    }
    Reply head = Call(port(), "HEAD", path);
    EXPECT_EQ(head.status, 200) << "HEAD " << path << ": " << head.Describe();
    Reply get = Visit(path);
    EXPECT_EQ(get.status, 200) << path << ": " << get.Describe();
    EXPECT_EQ(get.Header("cache-control"), "no-store") << path << ": " << get.Describe();
  }
}

TEST_F(OperationsTest, RequestIdIsEchoedEverywhere) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  const HeaderList id = {{"X-Request-Id", "trace-abc_123.XYZ"}};
  const std::string auth = "Bearer " + std::string(kBootstrapKey);
  const std::vector<std::pair<std::string, Reply>> replies = {
      {"healthz", Visit("/healthz", id)},
      {"redirect", Visit("/" + code, id)},
      {"unknown code", Visit("/NoSuch77", id)},
      {"api", Call(port(), "GET", "/v1/urls", {{"Authorization", auth}, id[0]})},
      {"api error", Call(port(), "GET", "/v1/urls/NoSuch77", {{"Authorization", auth}, id[0]})},
      {"unauthorized", Call(port(), "GET", "/v1/urls", id)},
      {"metrics", Visit("/metrics", id)},
  };
  for (const auto& [what, reply] : replies) {
    EXPECT_EQ(reply.Header("x-request-id"), "trace-abc_123.XYZ")
        << what << ": " << reply.Describe();
  }
}

TEST_F(OperationsTest, RequestIdIsGeneratedWhenMissingOrUnfit) {
  Reply a = Visit("/healthz");
  Reply b = Visit("/healthz");
  EXPECT_FALSE(a.Header("x-request-id").empty()) << a.Describe();
  EXPECT_NE(a.Header("x-request-id"), b.Header("x-request-id"));

  const std::string longest(128, 'r');
  EXPECT_EQ(Visit("/healthz", {{"X-Request-Id", longest}}).Header("x-request-id"), longest);
  // Every printable ASCII character, the space included.
  const std::string printable = "a !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~z";
  EXPECT_EQ(Visit("/healthz", {{"X-Request-Id", printable}}).Header("x-request-id"), printable);

  for (const std::string& unfit : {std::string(129, 'r'), std::string("caf\xC3\xA9")}) {
    Reply reply = Visit("/healthz", {{"X-Request-Id", unfit}});
    EXPECT_EQ(reply.status, 200) << reply.Describe();
    const std::string got = reply.Header("x-request-id");
    EXPECT_FALSE(got.empty()) << reply.Describe();
    EXPECT_NE(got, unfit) << reply.Describe();
  }
}

TEST_F(OperationsTest, UnknownApiRouteIs404Json) {
  Reply reply = Admin().Get("/v1/nothing-here");
  EXPECT_EQ(reply.status, 404) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "not_found") << reply.Describe();
  EXPECT_TRUE(reply.Header("content-type").starts_with("application/json")) << reply.Describe();
}

TEST_F(OperationsTest, RedirectsAreNotRateLimitedByDefault) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  for (int i = 0; i < 30; ++i) {
    Reply reply = Visit("/" + code);
    ASSERT_EQ(reply.status, 301) << "redirect " << i << ": " << reply.Describe();
  }
}

void ExpectRateLimited(const Reply& reply, int limit) {
  EXPECT_EQ(reply.status, 429) << reply.Describe();
  const std::string retry_after = reply.Header("retry-after");
  EXPECT_TRUE(std::regex_match(retry_after, std::regex("[0-9]+"))) << reply.Describe();
  EXPECT_EQ(reply.Header("ratelimit-limit").substr(0, std::to_string(limit).size()),
            std::to_string(limit))
      << reply.Describe();
  EXPECT_EQ(reply.Header("ratelimit-remaining"), "0") << reply.Describe();
  EXPECT_TRUE(std::regex_match(reply.Header("ratelimit-reset"), std::regex("[0-9]+")))
      << reply.Describe();
}

class ApiRateLimitTest : public KurzTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--rate-limit-api", "5"}; }
};

TEST_F(ApiRateLimitTest, SixthQuickRequestOfAKeyIs429) {
  NewUser kim = CreateUser("kim@example.com");
  Api as_kim = As(kim.api_key);
  for (int i = 0; i < 5; ++i) {
    Reply reply = as_kim.Get("/v1/urls");
    ASSERT_EQ(reply.status, 200) << "request " << i + 1 << ": " << reply.Describe();
  }
  Reply limited = as_kim.Get("/v1/urls");
  ExpectRateLimited(limited, 5);
  EXPECT_EQ(limited.ErrorCode(), "rate_limited") << limited.Describe();
  EXPECT_FALSE(limited.Header("x-request-id").empty()) << limited.Describe();

  // Another key is unaffected.
  Reply admin = Admin().Get("/v1/urls");
  EXPECT_EQ(admin.status, 200) << admin.Describe();

  // The bucket refills (5 per second).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Reply again = as_kim.Get("/v1/urls");
  EXPECT_EQ(again.status, 200) << again.Describe();
}

class RedirectRateLimitTest : public KurzTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--rate-limit-redirect", "3"}; }
};

TEST_F(RedirectRateLimitTest, FourthQuickRedirectFromOneAddressIs429) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  for (int i = 0; i < 3; ++i) {
    Reply reply = Visit("/" + code);
    ASSERT_EQ(reply.status, 301) << "redirect " << i + 1 << ": " << reply.Describe();
  }
  Reply limited = Visit("/" + code);
  ExpectRateLimited(limited, 3);
  EXPECT_FALSE(limited.Has("location")) << limited.Describe();

  // The API is limited per key, not per address.
  EXPECT_EQ(Admin().Get("/v1/urls/" + code).status, 200);

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Visit("/" + code).status, 301);
}

}  // namespace
}  // namespace kurz::testing
