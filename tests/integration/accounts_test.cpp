// Authentication, API keys and users (API.md "Conventions" and "Accounts and keys").

#include <algorithm>
#include <string>
#include <vector>

#include "integration/kurz_test.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

class AccountsTest : public KurzTest {
 protected:
  // POST /v1/api-keys expecting 201.
  json CreateKey(const Api& api, const std::string& name, const json& permissions) {
    Reply reply = api.Post("/v1/api-keys", {{"name", name}, {"permissions", permissions}});
    Expect(reply, 201, "POST /v1/api-keys");
    return reply.Json();
  }
};

void ExpectUnauthorized(const Reply& reply, std::string_view what) {
  EXPECT_EQ(reply.status, 401) << what << ": " << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "unauthorized") << what << ": " << reply.Describe();
  EXPECT_TRUE(reply.Header("www-authenticate").starts_with("Bearer"))
      << what << ": " << reply.Describe();
}

TEST_F(AccountsTest, MissingOrUnknownKeyIs401) {
  ExpectUnauthorized(Anonymous().Get("/v1/urls"), "no key");
  ExpectUnauthorized(As("kz_not_a_real_key_000000000000000000").Get("/v1/urls"), "unknown key");
  ExpectUnauthorized(Anonymous().Post("/v1/urls", {{"url", "https://example.com/"}}),
                     "create without key");
  ExpectUnauthorized(Call(port(), "GET", "/v1/urls", {{"Authorization", "Bearer "}}),
                     "empty bearer");
  ExpectUnauthorized(Call(port(), "GET", "/v1/urls", {{"Authorization", "Basic YWRtaW46YWRtaW4="}}),
                     "basic auth");
  ExpectUnauthorized(Call(port(), "GET", "/v1/urls",
                          {{"Authorization", "Bearer " + std::string(kBootstrapKey) + "x"}}),
                     "key with a suffix");
  ExpectUnauthorized(
      Call(port(), "GET", "/v1/urls", {{"Authorization", std::string(kBootstrapKey)}}),
      "key without scheme");
}

TEST_F(AccountsTest, BearerAndXApiKeyBothWork) {
  EXPECT_EQ(
      Call(port(), "GET", "/v1/urls", {{"Authorization", "Bearer " + std::string(kBootstrapKey)}})
          .status,
      200);
  EXPECT_EQ(Call(port(), "GET", "/v1/urls", {{"X-API-Key", std::string(kBootstrapKey)}}).status,
            200);
  EXPECT_EQ(
      Call(port(), "GET", "/v1/urls", {{"authorization", "bearer " + std::string(kBootstrapKey)}})
          .status,
      200)
      << "header names and the auth scheme are case-insensitive (RFC 9110)";
}

TEST_F(AccountsTest, CreateKeyShowsTheSecretOnce) {
  json key = CreateKey(Admin(), "ci", {"create", "read"});
  ASSERT_TRUE(key["id"].is_number_integer() || key["id"].is_string()) << key.dump();
  EXPECT_EQ(key["name"], "ci");
  ASSERT_TRUE(key["key"].is_string()) << key.dump();
  const std::string secret = key["key"];
  EXPECT_GE(secret.size(), 20u) << secret;
  EXPECT_EQ(key["prefix"], secret.substr(0, 6)) << "at most 6 characters of the secret are shown";
  EXPECT_EQ(key["permissions"], json({"create", "read"}));
  ASSERT_TRUE(key["created_at"].is_string()) << key.dump();
  EXPECT_TRUE(LooksLikeRfc3339(key["created_at"].get<std::string>())) << key.dump();

  // The new key works.
  EXPECT_EQ(As(secret).Get("/v1/urls").status, 200);

  Reply list = Admin().Get("/v1/api-keys");
  ASSERT_EQ(list.status, 200) << list.Describe();
  json items = list.Json()["items"];
  ASSERT_TRUE(items.is_array()) << list.Describe();
  bool found = false;
  for (const json& item : items) {
    EXPECT_FALSE(item.contains("key")) << "GET /v1/api-keys leaks a secret: " << item.dump();
    EXPECT_EQ(list.body.find(secret), std::string::npos) << "secret in the key list";
    if (item["id"] == key["id"]) {
      found = true;
      EXPECT_EQ(item["name"], "ci");
      EXPECT_EQ(item["prefix"], secret.substr(0, 6));
      EXPECT_EQ(item["permissions"], json({"create", "read"}));
    }
  }
  EXPECT_TRUE(found) << list.Describe();
}

TEST_F(AccountsTest, TwoKeysGetDifferentSecrets) {
  json a = CreateKey(Admin(), "a", {"read"});
  json b = CreateKey(Admin(), "b", {"read"});
  EXPECT_NE(a["key"], b["key"]);
  EXPECT_NE(a["id"], b["id"]);
}

TEST_F(AccountsTest, RevokedKeyIs401AtOnce) {
  json key = CreateKey(Admin(), "short-lived", {"create", "read", "delete"});
  const std::string secret = key["key"];
  ASSERT_EQ(As(secret).Get("/v1/urls").status, 200);  // warm any auth cache
  const std::string id = key["id"].is_string() ? key["id"].get<std::string>() : key["id"].dump();
  Reply del = Admin().Delete("/v1/api-keys/" + id);
  EXPECT_EQ(del.status, 204) << del.Describe();
  ExpectUnauthorized(As(secret).Get("/v1/urls"), "revoked key");
  ExpectUnauthorized(As(secret).Post("/v1/urls", {{"url", UniqueUrl()}}), "revoked key create");
  Reply again = Admin().Delete("/v1/api-keys/" + id);
  EXPECT_EQ(again.status, 404) << again.Describe();
  EXPECT_EQ(Admin().Delete("/v1/api-keys/987654").status, 404);
}

TEST_F(AccountsTest, ListingKeysIsPerUser) {
  NewUser bob = CreateUser("bob@example.com");
  json admin_key = CreateKey(Admin(), "admin-extra", {"read"});
  Reply list = As(bob.api_key).Get("/v1/api-keys");
  ASSERT_EQ(list.status, 200) << list.Describe();
  const json items = list.Json()["items"];
  for (const json& item : items) {
    EXPECT_NE(item["id"], admin_key["id"]) << "Bob sees the admin's key: " << list.Describe();
  }
  // Bob cannot revoke the admin's key.
  const std::string id =
      admin_key["id"].is_string() ? admin_key["id"].get<std::string>() : admin_key["id"].dump();
  Reply del = As(bob.api_key).Delete("/v1/api-keys/" + id);
  EXPECT_EQ(del.status, 404) << del.Describe();
  EXPECT_EQ(As(admin_key["key"]).Get("/v1/urls").status, 200);
}

TEST_F(AccountsTest, KeyWithoutThePermissionIs403) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  const std::string read_only = CreateKey(Admin(), "reader", {"read"})["key"];
  const std::string create_only = CreateKey(Admin(), "creator", {"create"})["key"];

  Reply create = As(read_only).Post("/v1/urls", {{"url", UniqueUrl()}});
  EXPECT_EQ(create.status, 403) << create.Describe();
  EXPECT_EQ(create.ErrorCode(), "forbidden") << create.Describe();
  Reply del = As(read_only).Delete("/v1/urls/" + code);
  EXPECT_EQ(del.status, 403) << del.Describe();
  EXPECT_EQ(As(read_only).Get("/v1/urls/" + code).status, 200);

  Reply list = As(create_only).Get("/v1/urls");
  EXPECT_EQ(list.status, 403) << list.Describe();
  Reply stats = As(create_only).Get("/v1/urls/" + code + "/stats");
  EXPECT_EQ(stats.status, 403) << stats.Describe();
  EXPECT_EQ(As(create_only).Post("/v1/urls", {{"url", UniqueUrl()}}).status, 201);

  // Neither may manage users.
  EXPECT_EQ(As(read_only).Get("/v1/users").status, 403);
}

std::string IdOf(const json& key) {
  return key["id"].is_string() ? key["id"].get<std::string>() : key["id"].dump();
}

TEST_F(AccountsTest, AKeyWithoutPermissionsCannotManageKeys) {
  const json bare = CreateKey(Admin(), "bare", json::array());
  const json victim = CreateKey(Admin(), "victim", {"read"});
  Api key = As(bare["key"]);

  for (const Reply& reply :
       {key.Get("/v1/api-keys"),
        key.Post("/v1/api-keys", {{"name", "x"}, {"permissions", json::array()}}),
        key.Delete("/v1/api-keys/" + IdOf(victim)), key.Delete("/v1/api-keys/1")}) {
    EXPECT_EQ(reply.status, 403) << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "forbidden") << reply.Describe();
  }
  // Nothing was revoked: the victim and the admin's bootstrap key still work.
  EXPECT_EQ(As(victim["key"]).Get("/v1/urls").status, 200);
  EXPECT_EQ(Admin().Get("/v1/api-keys").status, 200);
}

TEST_F(AccountsTest, AKeySeesAndRevokesOnlyKeysWithinItsOwnPermissions) {
  const json reader = CreateKey(Admin(), "reader", {"read"});
  const json other_reader = CreateKey(Admin(), "other-reader", {"read"});
  const json writer = CreateKey(Admin(), "writer", {"create", "read"});
  Api key = As(reader["key"]);

  Reply list = key.Get("/v1/api-keys");
  ASSERT_EQ(list.status, 200) << list.Describe();
  std::vector<std::string> names;
  const json items = list.Json()["items"];
  for (const json& item : items) names.push_back(item["name"]);
  EXPECT_NE(std::find(names.begin(), names.end(), "reader"), names.end()) << list.Describe();
  EXPECT_NE(std::find(names.begin(), names.end(), "other-reader"), names.end()) << list.Describe();
  EXPECT_EQ(std::find(names.begin(), names.end(), "writer"), names.end())
      << "a read-only key sees a key with more permissions: " << list.Describe();
  EXPECT_EQ(std::find(names.begin(), names.end(), "bootstrap"), names.end())
      << "a read-only key sees the admin's key: " << list.Describe();

  // Keys with more permissions are not there for it: 404, and they keep working.
  EXPECT_EQ(key.Delete("/v1/api-keys/" + IdOf(writer)).status, 404);
  EXPECT_EQ(key.Delete("/v1/api-keys/1").status, 404) << "the bootstrap key";
  EXPECT_EQ(As(writer["key"]).Get("/v1/urls").status, 200);
  EXPECT_EQ(Admin().Get("/v1/users").status, 200);

  // A key within its permissions it may revoke.
  EXPECT_EQ(key.Delete("/v1/api-keys/" + IdOf(other_reader)).status, 204);
  EXPECT_EQ(As(other_reader["key"]).Get("/v1/urls").status, 401);
}

TEST_F(AccountsTest, TheListedPrefixShowsAtMostAQuarterOfTheSecret) {
  Reply list = Admin().Get("/v1/api-keys");
  ASSERT_EQ(list.status, 200) << list.Describe();
  bool found = false;
  const json items = list.Json()["items"];
  for (const json& item : items) {
    const std::string prefix = item["prefix"];
    EXPECT_LE(prefix.size(), 6u) << item.dump();
    if (item["name"] == "bootstrap") {
      found = true;
      EXPECT_LE(prefix.size(), kBootstrapKey.size() / 4) << item.dump();
      EXPECT_TRUE(kBootstrapKey.starts_with(prefix)) << item.dump();
    }
  }
  EXPECT_TRUE(found) << list.Describe();
}

TEST_F(AccountsTest, UnknownPermissionIs400) {
  for (const json& permissions :
       {json{"create", "fly"}, json::array({1}), json("read"), json::array({"admin", "x"})}) {
    Reply reply = Admin().Post("/v1/api-keys", {{"name", "x"}, {"permissions", permissions}});
    EXPECT_EQ(reply.status, 400) << permissions.dump() << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << reply.Describe();
  }
}

TEST_F(AccountsTest, AKeyGrantsOnlyWhatItsCreatorHolds) {
  NewUser carol = CreateUser("carol@example.com");
  EXPECT_EQ(carol.body["status"], "active");
  Reply admin =
      As(carol.api_key)
          .Post("/v1/api-keys", {{"name", "escalate"}, {"permissions", {"read", "admin"}}});
  EXPECT_EQ(admin.status, 403) << admin.Describe();
  EXPECT_EQ(admin.ErrorCode(), "forbidden") << admin.Describe();

  // A key made by a read-only key cannot get "create" either.
  const std::string reader = CreateKey(As(carol.api_key), "reader", {"read"})["key"];
  Reply wider =
      As(reader).Post("/v1/api-keys", {{"name", "wider"}, {"permissions", {"read", "create"}}});
  EXPECT_EQ(wider.status, 403) << wider.Describe();

  // An admin can hand out admin.
  json admin2 = CreateKey(Admin(), "admin2", {"create", "read", "delete", "admin"});
  EXPECT_EQ(As(admin2["key"]).Get("/v1/users").status, 200);
}

TEST_F(AccountsTest, CreateUserReturnsTheUserAndAWorkingKey) {
  Reply reply = Admin().Post("/v1/users", {{"email", "dora@example.com"}, {"tier", "pro"}});
  ASSERT_EQ(reply.status, 201) << reply.Describe();
  json user = reply.Json();
  EXPECT_TRUE(user["id"].is_number_integer()) << user.dump();
  EXPECT_NE(user["id"], 1) << "user 1 is the bootstrap admin";
  EXPECT_EQ(user["email"], "dora@example.com");
  EXPECT_EQ(user["tier"], "pro");
  EXPECT_EQ(user["status"], "active");
  EXPECT_TRUE(LooksLikeRfc3339(user.value("created_at", ""))) << user.dump();
  ASSERT_TRUE(user["api_key"].is_string()) << user.dump();

  // The first key has create, read and delete, but not admin.
  Api dora = As(user["api_key"]);
  json link = CreateLink(dora, {{"url", UniqueUrl()}});
  const std::string code = link["code"];
  EXPECT_EQ(dora.Get("/v1/urls/" + code).status, 200);
  EXPECT_EQ(dora.Delete("/v1/urls/" + code).status, 204);
  Reply users = dora.Get("/v1/users");
  EXPECT_EQ(users.status, 403) << users.Describe();
  EXPECT_EQ(users.ErrorCode(), "forbidden") << users.Describe();
}

TEST_F(AccountsTest, DuplicateEmailIs409IgnoringCase) {
  CreateUser("Eve@Example.com");
  for (const char* email : {"Eve@Example.com", "eve@example.com", "EVE@EXAMPLE.COM"}) {
    Reply reply = Admin().Post("/v1/users", {{"email", email}, {"tier", "free"}});
    EXPECT_EQ(reply.status, 409) << email << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "email_taken") << email << ": " << reply.Describe();
  }
}

TEST_F(AccountsTest, BadUserInputIs400) {
  for (const json& body :
       {json{{"email", "not-an-email"}, {"tier", "free"}}, json{{"email", ""}, {"tier", "free"}},
        json{{"email", "a b@example.com"}, {"tier", "free"}},
        json{{"email", "@example.com"}, {"tier", "free"}}, json{{"email", 42}, {"tier", "free"}},
        json{{"tier", "free"}}, json{{"email", "ok@example.com"}, {"tier", "platinum"}}}) {
    Reply reply = Admin().Post("/v1/users", body);
    EXPECT_EQ(reply.status, 400) << body.dump() << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << body.dump() << ": " << reply.Describe();
  }
}

TEST_F(AccountsTest, ListUsers) {
  NewUser fay = CreateUser("fay@example.com");
  Reply reply = Admin().Get("/v1/users");
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  json items = reply.Json()["items"];
  ASSERT_TRUE(items.is_array()) << reply.Describe();
  bool found = false;
  for (const json& item : items) {
    EXPECT_FALSE(item.contains("api_key")) << item.dump();
    if (item["id"] == fay.id) {
      found = true;
      EXPECT_EQ(item["email"], "fay@example.com");
      EXPECT_EQ(item["status"], "active");
      EXPECT_EQ(item["tier"], "free");
    }
  }
  EXPECT_TRUE(found) << reply.Describe();
  EXPECT_EQ(reply.body.find(fay.api_key), std::string::npos);
}

TEST_F(AccountsTest, UsersEndpointsAreAdminOnly) {
  NewUser gus = CreateUser("gus@example.com");
  Api as_gus = As(gus.api_key);
  for (const Reply& reply :
       {as_gus.Post("/v1/users", {{"email", "other@example.com"}, {"tier", "free"}}),
        as_gus.Get("/v1/users"),
        as_gus.Patch("/v1/users/" + std::to_string(gus.id), {{"status", "suspended"}}),
        as_gus.Patch("/v1/users/1", {{"status", "suspended"}})}) {
    EXPECT_EQ(reply.status, 403) << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "forbidden") << reply.Describe();
  }
  EXPECT_EQ(as_gus.Get("/v1/urls").status, 200) << "Gus is still active";
}

TEST_F(AccountsTest, SuspendingAUserStopsKeysAndLinksUntilReactivated) {
  NewUser hal = CreateUser("hal@example.com");
  Api as_hal = As(hal.api_key);
  const std::string url = UniqueUrl();
  const std::string code = CreateLink(as_hal, {{"url", url}})["code"];
  ASSERT_EQ(Visit("/" + code).status, 301);  // warm caches

  const std::string path = "/v1/users/" + std::to_string(hal.id);
  Reply suspend = Admin().Patch(path, {{"status", "suspended"}});
  ASSERT_EQ(suspend.status, 200) << suspend.Describe();
  EXPECT_EQ(suspend.Json()["status"], "suspended");
  EXPECT_EQ(suspend.Json()["id"], hal.id);
  EXPECT_EQ(suspend.Json()["email"], "hal@example.com");

  ExpectUnauthorized(as_hal.Get("/v1/urls"), "suspended user's key");
  Reply gone = Visit("/" + code);
  EXPECT_EQ(gone.status, 410) << gone.Describe();
  EXPECT_FALSE(gone.Has("location")) << gone.Describe();

  Reply activate = Admin().Patch(path, {{"status", "active"}});
  ASSERT_EQ(activate.status, 200) << activate.Describe();
  EXPECT_EQ(activate.Json()["status"], "active");
  EXPECT_EQ(as_hal.Get("/v1/urls").status, 200);
  Reply back = Visit("/" + code);
  EXPECT_EQ(back.status, 301) << back.Describe();
  EXPECT_EQ(back.Header("location"), url);
}

TEST_F(AccountsTest, SuspensionShowsInTheUserList) {
  NewUser ida = CreateUser("ida@example.com");
  Expect(Admin().Patch("/v1/users/" + std::to_string(ida.id), {{"status", "suspended"}}), 200,
         "PATCH");
  Reply reply = Admin().Get("/v1/users");
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  bool found = false;
  const json items = reply.Json()["items"];
  for (const json& item : items) {
    if (item["id"] == ida.id) {
      found = true;
      EXPECT_EQ(item["status"], "suspended");
    }
  }
  EXPECT_TRUE(found) << reply.Describe();
}

TEST_F(AccountsTest, PatchUserRejectsBadInput) {
  NewUser jo = CreateUser("jo@example.com");
  const std::string path = "/v1/users/" + std::to_string(jo.id);
  for (const json& body : {json{{"status", "banned"}}, json{{"status", 1}}, json::object(),
                           json{{"status", "active"}, {"colour", "red"}}}) {
    Reply reply = Admin().Patch(path, body);
    EXPECT_EQ(reply.status, 400) << body.dump() << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << body.dump() << ": " << reply.Describe();
  }
  Reply unknown = Admin().Patch("/v1/users/987654", {{"status", "suspended"}});
  EXPECT_EQ(unknown.status, 404) << unknown.Describe();
  EXPECT_EQ(unknown.ErrorCode(), "not_found") << unknown.Describe();
  Reply text = Admin().Send("PATCH", path, R"({"status":"suspended"})", "text/plain");
  EXPECT_EQ(text.status, 415) << text.Describe();
}

}  // namespace
}  // namespace kurz::testing
