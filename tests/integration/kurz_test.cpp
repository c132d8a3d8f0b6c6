#include "integration/kurz_test.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "support/http_client.hpp"

#ifndef KURZ_BINARY
#error "KURZ_BINARY must name the kurz executable under test"
#endif

namespace kurz::testing {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Copies whatever the HTTP client returned into a Reply.
template <class ClientResponse>
Reply ToReply(const ClientResponse& response) {
  Reply reply;
  reply.status = response.status;
  for (const auto& [name, value] : response.headers) reply.headers.emplace(Lower(name), value);
  reply.body = response.body;
  return reply;
}

std::string DaysToDate(std::int64_t days) {
  // Howard Hinnant's civil_from_days.
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

std::int64_t DaysFromCivil(std::int64_t y, std::int64_t m, std::int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::int64_t NowSeconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

std::filesystem::path KurzBinary() { return KURZ_BINARY; }

bool Reply::Has(std::string_view name) const { return headers.contains(Lower(name)); }

std::string Reply::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

nlohmann::json Reply::Json() const {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) throw std::runtime_error("response body is not JSON: " + Describe());
  return parsed;
}

std::string Reply::ErrorCode() const {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("error") ||
      !parsed["error"].is_object() || !parsed["error"].contains("code") ||
      !parsed["error"]["code"].is_string()) {
    return "";
  }
  return parsed["error"]["code"].get<std::string>();
}

std::string Reply::Describe() const {
  std::string text = "HTTP " + std::to_string(status);
  for (const auto& [name, value] : headers)
    text.append("\n  ").append(name).append(": ").append(value);
  text += "\n  body (" + std::to_string(body.size()) + " bytes): ";
  text += body.size() > 1500 ? body.substr(0, 1500) + "..." : body;
  return text;
}

Reply Call(int port, std::string_view method, std::string_view path, const HeaderList& headers,
           std::string_view body) {
  auto response = Request(static_cast<std::uint16_t>(port), method, path, headers, body);
  if (!response) {
    throw std::runtime_error("no HTTP response to " + std::string(method) + " " +
                             std::string(path) + " on port " + std::to_string(port));
  }
  return ToReply(*response);
}

Reply CallRaw(int port, std::string_view bytes) {
  const Fd fd = Connect(static_cast<std::uint16_t>(port));
  if (!fd) throw std::runtime_error("cannot connect to port " + std::to_string(port));
  // A server may answer (and close) before it has read everything, e.g. on a too large body:
  // a failed send still leaves its answer to read.
  SendRaw(fd.get(), bytes);
  auto response = ReadResponse(fd.get());
  if (!response) {
    throw std::runtime_error("no HTTP response to " + std::to_string(bytes.size()) +
                             " raw bytes starting " + std::string(bytes.substr(0, 60)));
  }
  return ToReply(*response);
}

Reply Api::Get(std::string_view path, const HeaderList& extra) const {
  return Send("GET", path, "", "", extra);
}

Reply Api::Delete(std::string_view path) const { return Send("DELETE", path, "", ""); }

Reply Api::Post(std::string_view path, const nlohmann::json& body) const {
  return Send("POST", path, body.dump(), "application/json");
}

Reply Api::Patch(std::string_view path, const nlohmann::json& body) const {
  return Send("PATCH", path, body.dump(), "application/json");
}

Reply Api::Send(std::string_view method, std::string_view path, std::string_view body,
                std::string_view content_type, const HeaderList& extra) const {
  HeaderList headers;
  if (!key_.empty()) headers.emplace_back("Authorization", "Bearer " + key_);
  if (!content_type.empty()) headers.emplace_back("Content-Type", std::string(content_type));
  headers.insert(headers.end(), extra.begin(), extra.end());
  return Call(port_, method, path, headers, body);
}

void Expect(const Reply& reply, int expected, std::string_view what) {
  if (reply.status != expected) {
    throw std::runtime_error(std::string(what) + ": expected HTTP " + std::to_string(expected) +
                             ", got " + reply.Describe());
  }
}

KurzTest::KurzTest() : data_dir_("kurz-data") {}

KurzTest::~KurzTest() = default;

namespace {

// "<url>?options=-csearch_path%3D<schema>" (or "&options=..." when the URL has a query).
std::string WithSearchPath(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

std::string RequiredEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: the cluster-mode suites need the test servers "
                             "(scripts/services/postgres start; scripts/services/redis start; "
                             "export the URLs they print with 'url'), as scripts/test does");
  }
  return v;
}

void Psql(const std::string& url, const std::string& sql) {
  RunResult run = RunToExit("/usr/bin/psql", {url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql});
  if (!run.status.Success()) {
    throw std::runtime_error("psql " + sql + ": " + run.status.Describe() + " " + run.err);
  }
}

bool ClusterMode() {
  const char* v = std::getenv("KURZ_TEST_BACKEND");
  return v != nullptr && std::string_view(v) == "cluster";
}

}  // namespace

void KurzTest::SetUp() {
  std::vector<std::string> backend;
  if (ClusterMode()) {
    const std::string postgres = RequiredEnv("KURZ_TEST_POSTGRES_URL");
    const std::string redis = RequiredEnv("KURZ_TEST_REDIS_URL");
    char name[32];
    std::snprintf(name, sizeof name, "kit_%d_%08x", static_cast<int>(getpid()),
                  static_cast<unsigned>(std::random_device{}()));
    cluster_schema_ = name;
    Psql(postgres, "CREATE SCHEMA " + cluster_schema_);
    backend = {"--database",        WithSearchPath(postgres, cluster_schema_),
               "--cache",           redis,
               "--cache-namespace", cluster_schema_};
  }
  std::vector<std::string> args = {"serve",
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--data",
                                   data_dir_.path(),
                                   "--bootstrap-key",
                                   std::string(kBootstrapKey)};
  for (auto& arg : backend) args.push_back(std::move(arg));
  for (auto& arg : ExtraArgs()) args.push_back(std::move(arg));
  server_ = std::make_unique<KurzProcess>(KurzBinary(), std::move(args), ExtraEnv());
  ASSERT_TRUE(server_->Start()) << "kurz did not start:\n" << server_->Describe();
}

void KurzTest::TearDown() {
  struct DropSchema {
    const std::string& schema;
    ~DropSchema() {
      if (schema.empty()) return;
      try {
        Psql(RequiredEnv("KURZ_TEST_POSTGRES_URL"), "DROP SCHEMA " + schema + " CASCADE");
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
  } drop{cluster_schema_};
  if (!server_ || !server_->running()) return;
  ExitStatus status = server_->Terminate();
  // A server that cannot stop cleanly (or that sanitizers flagged at exit) fails the test that
  // ran it, so the failure lands next to its cause.
  EXPECT_TRUE(status.Success()) << "kurz did not exit cleanly on SIGTERM: " << status.Describe()
                                << "\n"
                                << server_->Describe();
}

void KurzTest::Restart() {
  if (server_->running()) server_->Terminate();
  ASSERT_TRUE(server_->Start()) << "kurz did not restart:\n" << server_->Describe();
}

std::string KurzTest::Origin() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::string KurzTest::UniqueUrl(std::string_view tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string url = "https://example.com/";
  if (info != nullptr) url += std::string(info->name()) + "/";
  if (!tag.empty()) url += std::string(tag) + "/";
  url += std::to_string(++url_counter_) + "?pid=" + std::to_string(::getpid());
  return url;
}

nlohmann::json KurzTest::CreateLink(const Api& api, const nlohmann::json& body) {
  Reply reply = api.Post("/v1/urls", body);
  Expect(reply, 201, "POST /v1/urls " + body.dump());
  return reply.Json();
}

NewUser KurzTest::CreateUser(std::string email, std::string tier) {
  Reply reply = Admin().Post("/v1/users", {{"email", email}, {"tier", tier}});
  Expect(reply, 201, "POST /v1/users");
  NewUser user;
  user.body = reply.Json();
  user.id = user.body.at("id").get<std::int64_t>();
  user.email = user.body.at("email").get<std::string>();
  user.api_key = user.body.at("api_key").get<std::string>();
  return user;
}

Reply KurzTest::Visit(std::string_view path, const HeaderList& headers) const {
  return Call(port(), "GET", path, headers);
}

nlohmann::json KurzTest::WaitForClicks(const Api& api, std::string_view code, std::int64_t expected,
                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string path = "/v1/urls/" + std::string(code) + "/stats";
  while (true) {
    Reply reply = api.Get(path);
    Expect(reply, 200, "GET " + path);
    nlohmann::json stats = reply.Json();
    const auto& total = stats["total_clicks"];
    if ((total.is_number_integer() && total.get<std::int64_t>() >= expected) ||
        std::chrono::steady_clock::now() >= deadline) {
      return stats;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool IsBase62(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](unsigned char c) { return std::isalnum(c); });
}

std::optional<std::int64_t> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s.back() != 'Z') {
    return std::nullopt;
  }
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
       se = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 60) {
    return std::nullopt;
  }
  std::string_view rest = s.substr(19, s.size() - 20);
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2) return std::nullopt;
    if (!std::ranges::all_of(rest.substr(1), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
  }
  return DaysFromCivil(*y, *mo, *d) * 86400 + std::int64_t{*h} * 3600 + std::int64_t{*mi} * 60 +
         *se;
}

bool LooksLikeRfc3339(std::string_view s) { return ParseRfc3339(s).has_value(); }

std::string UtcDate(int days) { return DaysToDate(NowSeconds() / 86400 + days); }

std::string UtcTimestamp(std::int64_t seconds_from_now) {
  const std::int64_t t = NowSeconds() + seconds_from_now;
  const std::int64_t secs = ((t % 86400) + 86400) % 86400;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "T%02lld:%02lld:%02lldZ", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return DaysToDate((t - secs) / 86400) + buf;
}

}  // namespace kurz::testing
