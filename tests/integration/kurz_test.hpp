#pragma once

// Shared pieces of the black-box integration tests: a per-test kurz server (fixture), a small API
// client on top of tests/support/http_client, and helpers that throw (so gtest reports the whole
// response) when the server answers something the test did not expect.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/kurz_process.hpp"

namespace kurz::testing {

inline constexpr std::string_view kBootstrapKey = "kz_test_bootstrap_admin_key_0123456789";

// Path of the kurz binary under test (from the build: KURZ_BINARY).
std::filesystem::path KurzBinary();

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One HTTP response as the tests look at it.
struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lowercase
  std::string body;

  bool Has(std::string_view name) const;
  // The header's value, "" when absent. `name` in any case.
  std::string Header(std::string_view name) const;
  // The body parsed as JSON; throws (with Describe()) when it is not JSON.
  nlohmann::json Json() const;
  // error.code of a JSON error body, "" when the body is not one.
  std::string ErrorCode() const;
  // Status, headers and (the start of) the body, for failure messages.
  std::string Describe() const;
};

// Sends one request on a fresh connection and reads the answer. Throws on connection errors.
Reply Call(int port, std::string_view method, std::string_view path, const HeaderList& headers = {},
           std::string_view body = {});
// Sends raw bytes on a fresh connection and reads one answer. Throws on connection errors.
Reply CallRaw(int port, std::string_view bytes);

// Requests on behalf of one API key.
class Api {
 public:
  // `key` empty: no credentials at all.
  Api(int port, std::string key) : port_(port), key_(std::move(key)) {}

  Reply Get(std::string_view path, const HeaderList& extra = {}) const;
  Reply Delete(std::string_view path) const;
  Reply Post(std::string_view path, const nlohmann::json& body) const;
  Reply Patch(std::string_view path, const nlohmann::json& body) const;
  // A body sent as given, with `content_type` ("" sends no Content-Type).
  Reply Send(std::string_view method, std::string_view path, std::string_view body,
             std::string_view content_type, const HeaderList& extra = {}) const;

  int port() const { return port_; }
  const std::string& key() const { return key_; }

 private:
  int port_;
  std::string key_;
};

// Throws std::runtime_error with the response when `reply.status != expected`.
void Expect(const Reply& reply, int expected, std::string_view what);

// A user created through POST /v1/users.
struct NewUser {
  std::int64_t id = 0;
  std::string email;
  std::string api_key;
  nlohmann::json body;
};

// Base fixture: every test gets its own kurz server on a fresh data directory, started as
//   kurz serve --listen 127.0.0.1:0 --data <tmp> --bootstrap-key <kBootstrapKey> <ExtraArgs()>
// With KURZ_TEST_BACKEND=cluster in the environment (ctest runs the suites a second time so,
// prefixed "cluster."), the same server runs on PostgreSQL (a fresh schema of
// $KURZ_TEST_POSTGRES_URL) and Redis ($KURZ_TEST_REDIS_URL, a fresh --cache-namespace) instead of
// the embedded defaults: the same black-box tests for both modes.
class KurzTest : public ::testing::Test {
 protected:
  KurzTest();
  ~KurzTest() override;

  virtual std::vector<std::string> ExtraArgs() const { return {}; }
  virtual EnvVars ExtraEnv() const { return {}; }

  void SetUp() override;
  void TearDown() override;

  // Starts the server again (after Terminate() or Kill()) on the same data directory.
  // Use as ASSERT_NO_FATAL_FAILURE(Restart()).
  void Restart();

  KurzProcess& server() { return *server_; }
  const std::filesystem::path& data_dir() const { return data_dir_.path(); }
  int port() const { return server_->port(); }
  // "http://127.0.0.1:<port>", the default base URL.
  std::string Origin() const;
  // The bootstrap admin key's client (rebuilt on every start since the port changes).
  Api Admin() const { return Api(port(), std::string(kBootstrapKey)); }
  Api As(std::string key) const { return Api(port(), std::move(key)); }
  Api Anonymous() const { return Api(port(), ""); }

  // A URL nobody used yet in this test.
  std::string UniqueUrl(std::string_view tag = "");
  // POST /v1/urls expecting 201; returns the link object.
  nlohmann::json CreateLink(const Api& api, const nlohmann::json& body);
  nlohmann::json CreateLink(const nlohmann::json& body) { return CreateLink(Admin(), body); }
  // POST /v1/users expecting 201.
  NewUser CreateUser(std::string email, std::string tier = "free");
  // GET <path> without credentials (a redirect).
  Reply Visit(std::string_view path, const HeaderList& headers = {}) const;
  // Polls the link's stats until total_clicks reaches `expected` (or `timeout`); returns the last
  // stats body. Throws if the stats request itself fails.
  nlohmann::json WaitForClicks(const Api& api, std::string_view code, std::int64_t expected,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  // Cluster mode: the schema and cache namespace of this test ("" in the embedded mode).
  std::string cluster_schema_;
  TempDir data_dir_;
  std::unique_ptr<KurzProcess> server_;
  int url_counter_ = 0;
};

// Helpers for checks.
bool IsBase62(std::string_view s);
bool LooksLikeRfc3339(std::string_view s);
// Today's UTC date as "YYYY-MM-DD", shifted by `days`.
std::string UtcDate(int days = 0);
// The current time plus `seconds`, as RFC 3339 UTC.
std::string UtcTimestamp(std::int64_t seconds_from_now);
// Parses "YYYY-MM-DDTHH:MM:SSZ" (optional fraction) into seconds since the epoch, nullopt if not.
std::optional<std::int64_t> ParseRfc3339(std::string_view s);

}  // namespace kurz::testing
