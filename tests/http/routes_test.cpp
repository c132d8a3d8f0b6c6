// The route table: matching, 405's Allow, and that it lists the same routes as the OpenAPI
// document (docs/openapi.json, served at /v1/openapi.json).

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/account.hpp"
#include "http/handlers/context.hpp"
#include "http/handlers/handlers.hpp"
#include "http/metrics.hpp"
#include "http/openapi.hpp"
#include "http/redirect.hpp"
#include "http/route_table.hpp"

namespace kurz::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

using Operation = std::pair<std::string, std::string>;  // (path, lower-case method)

std::set<Operation> DocumentedOperations() {
  const auto doc = nlohmann::json::parse(OpenApiJson());
  std::set<Operation> out;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [key, value] : item.items()) {
      static const std::set<std::string> kMethods = {"get",   "head",   "post",    "put",
                                                     "patch", "delete", "options", "trace"};
      if (kMethods.contains(key)) out.emplace(path, key);
    }
  }
  return out;
}

// What the server answers: the table's rows (HEAD wherever GET is) and the redirect fallback.
std::set<Operation> ServedOperations() {
  Metrics metrics;
  const RouteTable<ApiRoute> table(ApiRoutes(), metrics);
  std::set<Operation> out;
  table.ForEachRoute([&](Method m, std::string_view pattern) {
    out.emplace(std::string(pattern), Lower(MethodName(m)));
  });
  out.emplace(std::string(kRedirectPattern), "get");
  out.emplace(std::string(kRedirectPattern), "head");
  out.emplace(std::string(kRedirectPattern), "post");  // the password form (http/password_post)
  return out;
}

TEST(HttpRoutesTest, EveryRouteIsInTheOpenApiDocument) {
  const std::set<Operation> documented = DocumentedOperations();
  for (const Operation& op : ServedOperations()) {
    // The document may leave HEAD implicit (its description says HEAD is answered wherever GET
    // is); every other method must be listed.
    if (op.second == "head") continue;
    EXPECT_TRUE(documented.contains(op)) << op.second << " " << op.first << " is not documented";
  }
}

TEST(HttpRoutesTest, EveryDocumentedOperationIsARoute) {
  const std::set<Operation> served = ServedOperations();
  for (const Operation& op : DocumentedOperations()) {
    EXPECT_TRUE(served.contains(op))
        << op.second << " " << op.first << " is documented but has no row in the route table";
  }
}

TEST(HttpRoutesTest, EveryRowDeclaresAHandlerAndANameSharedByItsPattern) {
  std::vector<std::pair<std::string_view, std::string_view>> seen;
  for (const ApiRoute& row : ApiRoutes()) {
    EXPECT_NE(row.handler, nullptr) << row.pattern;
    EXPECT_FALSE(row.name.empty()) << row.pattern;
    for (const auto& [pattern, name] : seen) {
      if (pattern == row.pattern) {
        EXPECT_EQ(name, row.name) << row.pattern;
      } else {
        EXPECT_NE(name, row.name) << row.pattern;
      }
    }
    seen.emplace_back(row.pattern, row.name);
  }
}

// Every /v1 route but the document itself needs a key.
TEST(HttpRoutesTest, OnlyOperationsEndpointsArePublic) {
  for (const ApiRoute& row : ApiRoutes()) {
    const bool operations = row.pattern == "/healthz" || row.pattern == "/readyz" ||
                            row.pattern == "/metrics" || row.pattern == "/v1/openapi.json" ||
                            row.pattern.starts_with("/.well-known/");
    EXPECT_EQ(row.permit.kind == Permit::Kind::kPublic, operations) << row.pattern;
  }
}

// The permission a row checks is the one its operation's summary names ("(permission update)"),
// so that a client reading the document asks for the key it needs.
TEST(HttpRoutesTest, EveryRoutesPermissionIsTheOneItsOperationNames) {
  const auto doc = nlohmann::json::parse(OpenApiJson());
  for (const ApiRoute& row : ApiRoutes()) {
    if (row.permit.kind != Permit::Kind::kPermission) continue;
    const std::string method = Lower(MethodName(row.method));
    const auto& op = doc.at("paths").at(std::string(row.pattern)).at(method);
    const std::string summary = op.at("summary").get<std::string>();
    const std::string named =
        "(permission " + std::string(core::PermissionName(row.permit.permission)) + ")";
    EXPECT_NE(summary.find(named), std::string::npos)
        << method << " " << row.pattern << ": '" << summary << "' does not say " << named;
  }
}

// "export" looks like a code: the literal route must win over /v1/urls/{code}, for GET and HEAD.
TEST(HttpRoutesTest, ExportIsNotTakenForALinkCode) {
  Metrics metrics;
  const RouteTable<ApiRoute> table(ApiRoutes(), metrics);
  for (const Method method : {Method::kGet, Method::kHead}) {
    const auto match = table.Find(method, "/v1/urls/export");
    ASSERT_TRUE(match && match->row);
    EXPECT_EQ(match->row->handler, &handlers::ExportLinks);
    EXPECT_EQ(match->row->permit.permission, core::kPermRead);
  }
  const auto link = table.Find(Method::kGet, "/v1/urls/exports");
  ASSERT_TRUE(link && link->row);
  EXPECT_EQ(link->row->handler, &handlers::GetLink);
}

struct TestRow {
  Method method;
  std::string_view pattern;
  std::string_view name;
  int tag;
};

constexpr TestRow kRows[] = {
    {Method::kGet, "/v1/things", "things", 1},
    {Method::kPost, "/v1/things", "things", 2},
    {Method::kDelete, "/v1/things/{id}", "thing", 3},
    {Method::kGet, "/v1/things/{id}/parts/{part}", "part", 4},
    {Method::kPatch, "/v1/things/{id}/parts/{part}", "part", 5},
};

TEST(HttpRouteTableTest, MatchesLiteralsAndParameters) {
  Metrics metrics;
  const RouteId first = metrics.Register("redirect");
  const RouteTable<TestRow> table(kRows, metrics);

  auto list = table.Find(Method::kGet, "/v1/things");
  ASSERT_TRUE(list);
  ASSERT_NE(list->row, nullptr);
  EXPECT_EQ(list->row->tag, 1);
  EXPECT_EQ(list->id, first + 1);
  EXPECT_EQ(list->allow, "GET, HEAD, POST");

  auto head = table.Find(Method::kHead, "/v1/things");
  ASSERT_TRUE(head && head->row);
  EXPECT_EQ(head->row->tag, 1) << "HEAD is answered by the GET row";

  auto part = table.Find(Method::kPatch, "/v1/things/42/parts/wheel");
  ASSERT_TRUE(part && part->row);
  EXPECT_EQ(part->row->tag, 5);
  EXPECT_EQ(part->params[0], "42");
  EXPECT_EQ(part->params[1], "wheel");
  EXPECT_EQ(part->id, first + 3);

  auto empty = table.Find(Method::kDelete, "/v1/things/");
  ASSERT_TRUE(empty && empty->row) << "a parameter matches an empty segment";
  EXPECT_EQ(empty->params[0], "");
}

TEST(HttpRouteTableTest, WrongMethodGivesTheAllowHeaderOfThePath) {
  Metrics metrics;
  const RouteTable<TestRow> table(kRows, metrics);
  auto thing = table.Find(Method::kGet, "/v1/things/7");
  ASSERT_TRUE(thing);
  EXPECT_EQ(thing->row, nullptr);
  EXPECT_EQ(thing->allow, "DELETE") << "no GET row: no HEAD either";
  auto parts = table.Find(Method::kPost, "/v1/things/7/parts/x");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->row, nullptr);
  EXPECT_EQ(parts->allow, "GET, HEAD, PATCH");
}

TEST(HttpRouteTableTest, OtherPathsDoNotMatch) {
  Metrics metrics;
  const RouteTable<TestRow> table(kRows, metrics);
  for (std::string_view path :
       {"/v1/thing", "/v1/things/7/extra", "/v1/things/7/parts", "/v1/things//parts/x/y", "/v1",
        "/", "", "v1/things", "/abc1234", "/v1/things/7/parts/x/"}) {
    EXPECT_FALSE(table.Find(Method::kGet, path)) << path;
  }
}

TEST(HttpMetricsTest, RoutesAreRegisteredOnceByNameAndRenderedInOrder) {
  Metrics metrics;
  EXPECT_EQ(metrics.Register("redirect"), 0);
  EXPECT_EQ(metrics.Register("/v1/urls"), 1);
  EXPECT_EQ(metrics.Register("redirect"), 0);
  metrics.RecordImmediate(1, 201);
  metrics.Record(0, 301, 50);
  std::string text;
  core::MetricsWriter w(text);
  metrics.Render(w);
  const auto redirect = text.find(R"(kurz_http_requests_total{route="redirect",status="301"} 1)");
  const auto links = text.find(R"(kurz_http_requests_total{route="/v1/urls",status="201"} 1)");
  ASSERT_NE(redirect, std::string::npos) << text;
  ASSERT_NE(links, std::string::npos) << text;
  EXPECT_LT(redirect, links) << text;
}

}  // namespace
}  // namespace kurz::http
