// GET /v1/urls/export (API.md "Changing, finding and bulk"; docs/api.md): both formats read back
// to exactly the caller's links, through a real kurz.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

// RFC 4180: rows of fields; quoted fields may hold commas, CR, LF and doubled quotes.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      field.push_back(c);
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_FALSE(any) << "last row without CRLF";
  return rows;
}

const std::vector<std::string> kColumns = {
    "code",      "short_url",   "url",   "created_at", "expires_at", "redirect_type",
    "is_custom", "click_count", "title", "tags",       "metadata",   "options"};

// A CSV row read back into the link object, as an importer would: typed columns, the JSON cells
// parsed, the options merged in. `like` says whether the link model has title and tags yet.
json LinkFromRow(const std::vector<std::string>& cells, const json& like) {
  json link = json::object();
  std::map<std::string, std::string> by_name;
  for (std::size_t i = 0; i < kColumns.size() && i < cells.size(); ++i) {
    by_name[kColumns[i]] = cells[i];
  }
  for (const char* name : {"code", "short_url", "url", "created_at"}) link[name] = by_name[name];
  link["expires_at"] = by_name["expires_at"].empty() ? json(nullptr) : json(by_name["expires_at"]);
  link["redirect_type"] = std::stoi(by_name["redirect_type"]);
  link["is_custom"] = by_name["is_custom"] == "true";
  link["click_count"] = std::stoll(by_name["click_count"]);
  if (like.contains("title")) {
    link["title"] = by_name["title"];  // a string, "" when the link has none
  }
  if (like.contains("tags")) link["tags"] = json::parse(by_name["tags"]);
  link["metadata"] = json::parse(by_name["metadata"]);
  const json options = json::parse(by_name["options"]);
  for (const auto& [name, value] : options.items()) link[name] = value;
  return link;
}

class ExportTest : public KurzTest {
 protected:
  // Some tests create a thousand links in a row.
  std::vector<std::string> ExtraArgs() const override { return {"--rate-limit-api", "0"}; }

  // Every own link as GET /v1/urls pages them, by code.
  static std::map<std::string, json> Listed(const Api& api) {
    std::map<std::string, json> out;
    std::string cursor;
    for (;;) {
      const Reply page =
          api.Get("/v1/urls?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
      Expect(page, 200, "GET /v1/urls");
      const json body = page.Json();
      for (const json& item : body["items"]) out[item["code"]] = item;
      if (body["next_cursor"].is_null()) return out;
      cursor = body["next_cursor"];
    }
  }

  static std::map<std::string, json> FromJsonl(const std::string& body) {
    std::map<std::string, json> out;
    std::size_t start = 0;
    while (start < body.size()) {
      const auto end = body.find('\n', start);
      EXPECT_NE(end, std::string::npos) << "last line without newline";
      if (end == std::string::npos) break;
      const json link = json::parse(body.substr(start, end - start));
      EXPECT_FALSE(out.contains(link["code"])) << "twice: " << link.dump();
      out[link["code"]] = link;
      start = end + 1;
    }
    return out;
  }

  static std::map<std::string, json> FromCsv(const std::string& body,
                                             const std::map<std::string, json>& listed) {
    const auto rows = ParseCsv(body);
    EXPECT_FALSE(rows.empty());
    if (rows.empty()) return {};
    EXPECT_EQ(rows.front(), kColumns);
    const json like = listed.empty() ? json::object() : listed.begin()->second;
    std::map<std::string, json> out;
    for (std::size_t i = 1; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].size(), kColumns.size()) << "row " << i;
      const json link = LinkFromRow(rows[i], like);
      EXPECT_FALSE(out.contains(link["code"])) << "twice: " << link.dump();
      out[link["code"]] = link;
    }
    return out;
  }

  // Links with what CSV and JSON must carry through: commas, quotes, CR/LF, Unicode.
  void CreateAwkwardLinks(const Api& api) {
    CreateLink(api, {{"url", UniqueUrl("plain")}});
    CreateLink(api, {{"url", "https://bücher.example/wiki/Straße?q=a,b&x=\"y\""},
                     {"custom_code", "uni_code"}});
    CreateLink(api, {{"url", UniqueUrl("meta") + "?a=1,2"},
                     {"metadata",
                      {{"note", "line one\r\nline two, with \"quotes\""},
                       {"emoji", "😀 日本"},
                       {"nested", {{"list", {1, "two", nullptr}}}}}}});
    CreateLink(api, {{"url", UniqueUrl("expiring")},
                     {"expires_at", UtcTimestamp(3600)},
                     {"redirect_type", 307},
                     {"custom_code", "Export-Me_1"}});
  }
};

TEST_F(ExportTest, JsonlIsExactlyTheOwnLinks) {
  const NewUser alice = CreateUser("alice@example.com");
  const NewUser bob = CreateUser("bob@example.com");
  const Api a = As(alice.api_key);
  CreateAwkwardLinks(a);
  const json gone = CreateLink(a, {{"url", UniqueUrl("deleted")}});
  Expect(a.Delete("/v1/urls/" + gone["code"].get<std::string>()), 204, "DELETE");
  const json other = CreateLink(As(bob.api_key), {{"url", UniqueUrl("bob")}});

  const Reply reply = a.Get("/v1/urls/export");  // jsonl is the default
  Expect(reply, 200, "GET /v1/urls/export");
  EXPECT_EQ(reply.Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(reply.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(reply.Header("content-disposition"),
            "attachment; filename=\"kurz-links-" + UtcDate().substr(0, 4) + UtcDate().substr(5, 2) +
                UtcDate().substr(8, 2) + ".jsonl\"");
  EXPECT_EQ(reply.Header("cache-control"), "no-store");
  const auto exported = FromJsonl(reply.body);
  const auto listed = Listed(a);
  EXPECT_EQ(listed.size(), 4u);
  EXPECT_EQ(exported, listed);
  EXPECT_FALSE(exported.contains(gone["code"]));
  EXPECT_FALSE(exported.contains(other["code"]));
  EXPECT_EQ(exported.at("uni_code")["url"], "https://bücher.example/wiki/Straße?q=a,b&x=\"y\"");

  const Reply explicit_jsonl = a.Get("/v1/urls/export?format=jsonl");
  Expect(explicit_jsonl, 200, "format=jsonl");
  EXPECT_EQ(FromJsonl(explicit_jsonl.body), listed);
}

TEST_F(ExportTest, CsvReadsBackToTheSameLinks) {
  const NewUser alice = CreateUser("alice@example.com");
  const NewUser bob = CreateUser("bob@example.com");
  const Api a = As(alice.api_key);
  CreateAwkwardLinks(a);
  const json gone = CreateLink(a, {{"url", UniqueUrl("deleted")}});
  Expect(a.Delete("/v1/urls/" + gone["code"].get<std::string>()), 204, "DELETE");
  CreateLink(As(bob.api_key), {{"url", UniqueUrl("bob")}});

  const Reply reply = a.Get("/v1/urls/export?format=csv");
  Expect(reply, 200, "GET /v1/urls/export?format=csv");
  EXPECT_EQ(reply.Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_TRUE(reply.Header("content-disposition").ends_with(".csv\""))
      << reply.Header("content-disposition");
  const auto listed = Listed(a);
  const auto exported = FromCsv(reply.body, listed);
  EXPECT_EQ(listed.size(), 4u);
  EXPECT_EQ(exported, listed);
  // Quotes inside a cell are doubled in a quoted field (RFC 4180), nothing else escaped.
  EXPECT_NE(reply.body.find(R"(with \""quotes\"")"), std::string::npos) << reply.body;
}

TEST_F(ExportTest, ManyLinksSpanSeveralPagesAndPiecesInOrder) {
  const NewUser alice = CreateUser("alice@example.com");
  const Api a = As(alice.api_key);
  const std::string padding(200, 'p');
  for (int i = 0; i < 1100; ++i) {
    CreateLink(a, {{"url", UniqueUrl("many")}, {"metadata", {{"i", i}, {"pad", padding}}}});
  }
  const auto listed = Listed(a);
  ASSERT_EQ(listed.size(), 1100u);
  const Reply jsonl = a.Get("/v1/urls/export");
  Expect(jsonl, 200, "jsonl");
  EXPECT_EQ(FromJsonl(jsonl.body), listed);
  // Newest first, like the list.
  const auto first_line = json::parse(jsonl.body.substr(0, jsonl.body.find('\n')));
  EXPECT_EQ(first_line["metadata"]["i"], 1099);
  const Reply csv = a.Get("/v1/urls/export?format=csv");
  Expect(csv, 200, "csv");
  EXPECT_EQ(FromCsv(csv.body, listed), listed);
}

TEST_F(ExportTest, CarriesTheClickCount) {
  const json link = CreateLink({{"url", UniqueUrl("clicked")}});
  const std::string code = link["code"];
  for (int i = 0; i < 3; ++i) Expect(Visit("/" + code), 301, "visit");
  WaitForClicks(Admin(), code, 3);
  const Reply got = Admin().Get("/v1/urls/" + code);
  const auto exported = FromJsonl(Admin().Get("/v1/urls/export").body);
  ASSERT_TRUE(exported.contains(code));
  EXPECT_EQ(exported.at(code)["click_count"], got.Json()["click_count"]);
  EXPECT_GT(exported.at(code)["click_count"].get<int>(), 0);
}

TEST_F(ExportTest, AnEmptyAccountExportsNothingButTheCsvHeader) {
  const NewUser alice = CreateUser("alice@example.com");
  const Reply jsonl = As(alice.api_key).Get("/v1/urls/export");
  Expect(jsonl, 200, "jsonl");
  EXPECT_EQ(jsonl.body, "");
  const Reply csv = As(alice.api_key).Get("/v1/urls/export?format=csv");
  Expect(csv, 200, "csv");
  EXPECT_EQ(csv.body,
            "code,short_url,url,created_at,expires_at,redirect_type,is_custom,click_count,title,"
            "tags,metadata,options\r\n");
}

TEST_F(ExportTest, RefusesWithoutReadPermissionOrWithAnUnknownFormat) {
  EXPECT_EQ(Anonymous().Get("/v1/urls/export").status, 401);
  const Reply key = Admin().Post("/v1/api-keys", {{"name", "writer"}, {"permissions", {"create"}}});
  Expect(key, 201, "POST /v1/api-keys");
  const Reply forbidden = As(key.Json()["key"]).Get("/v1/urls/export");
  EXPECT_EQ(forbidden.status, 403) << forbidden.Describe();
  for (const char* bad : {"xml", "CSV", ""}) {
    const Reply reply = Admin().Get(std::string("/v1/urls/export?format=") + bad);
    EXPECT_EQ(reply.status, 400) << bad << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << bad;
  }
}

TEST_F(ExportTest, HeadAnswersTheHeadersOnly) {
  CreateLink({{"url", UniqueUrl("head")}});
  Fd fd = Connect(static_cast<std::uint16_t>(port()));
  ASSERT_TRUE(fd);
  ASSERT_TRUE(SendRaw(fd.get(),
                      FormatRequest("HEAD", "/v1/urls/export?format=csv",
                                    {{"Authorization", "Bearer " + std::string(kBootstrapKey)}})));
  const auto head = ReadResponse(fd.get(), /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(head->body, "");
  // Nothing of a body follows: the next answer on the connection is the next request's.
  ASSERT_TRUE(SendRaw(fd.get(), FormatRequest("GET", "/healthz")));
  const auto next = ReadResponse(fd.get());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

}  // namespace
}  // namespace kurz::testing
