// The kurz process: command line, environment, signals and restarts (API.md "Command line").

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;
using std::chrono::steady_clock;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

class ProcessTest : public KurzTest {};

TEST_F(ProcessTest, SigtermExitsZeroQuickly) {
  Expect(Visit("/healthz"), 200, "healthz");
  const auto start = steady_clock::now();
  ExitStatus status = server().Terminate(std::chrono::seconds(10));
  const auto took = steady_clock::now() - start;
  EXPECT_TRUE(status.Success()) << status.Describe() << "\n" << server().Describe();
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST_F(ProcessTest, SigintExitsZero) {
  ASSERT_EQ(::kill(server().pid(), SIGINT), 0);
  ExitStatus status = server().Terminate(std::chrono::seconds(10));
  EXPECT_TRUE(status.Success()) << status.Describe() << "\n" << server().Describe();
}

TEST_F(ProcessTest, SigtermWithIdleConnectionsStillExits) {
  // Idle clients must not hold the shutdown up past the deadline: one kept alive after a
  // request, one that never sent anything, one stuck in the middle of its request head.
  const auto port16 = static_cast<std::uint16_t>(port());
  const Fd kept_alive = Connect(port16);
  const Fd silent = Connect(port16);
  const Fd partial = Connect(port16);
  ASSERT_TRUE(kept_alive && silent && partial);
  ASSERT_TRUE(SendRaw(kept_alive.get(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto answer = ReadResponse(kept_alive.get());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  ASSERT_TRUE(SendRaw(partial.get(), "GET /healthz HTTP/1.1\r\nHo"));
  const auto start = steady_clock::now();
  ExitStatus status = server().Terminate(std::chrono::seconds(10));
  const auto took = steady_clock::now() - start;
  EXPECT_TRUE(status.Success()) << status.Describe() << "\n" << server().Describe();
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST_F(ProcessTest, EverythingSurvivesARestart) {
  const std::string url = UniqueUrl();
  const std::string code = CreateLink({{"url", url}, {"custom_code", "persist-me"}})["code"];
  NewUser user = CreateUser("lou@example.com");
  const std::string user_code = CreateLink(As(user.api_key), {{"url", UniqueUrl()}})["code"];

  ASSERT_NO_FATAL_FAILURE(Restart());

  Reply redirect = Visit("/" + code);
  EXPECT_EQ(redirect.status, 301) << redirect.Describe();
  EXPECT_EQ(redirect.Header("location"), url);
  EXPECT_EQ(As(user.api_key).Get("/v1/urls/" + user_code).status, 200);
  Reply list = Admin().Get("/v1/users");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_NE(list.body.find("lou@example.com"), std::string::npos) << list.Describe();
  // Custom codes and dedup still see the old rows.
  EXPECT_EQ(Admin().Post("/v1/urls", {{"url", UniqueUrl()}, {"custom_code", "persist-me"}}).status,
            409);
  Reply dedup = Admin().Post("/v1/urls", {{"url", url}});
  EXPECT_EQ(dedup.status, 201) << "the custom link must not take part in deduplication: "
                               << dedup.Describe();
  // New generated codes do not collide with old ones.
  const std::string fresh = CreateLink({{"url", UniqueUrl()}})["code"];
  EXPECT_NE(fresh, code);
  EXPECT_NE(fresh, user_code);
}

TEST_F(ProcessTest, ClicksAnsweredBeforeSigtermAreCountedAfterRestart) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  for (int i = 0; i < 20; ++i) Expect(Visit("/" + code), 301, "redirect");
  ExitStatus status = server().Terminate();
  ASSERT_TRUE(status.Success()) << status.Describe() << "\n" << server().Describe();
  ASSERT_NO_FATAL_FAILURE(Restart());
  json stats = WaitForClicks(Admin(), code, 20);
  EXPECT_EQ(stats["total_clicks"], 20) << stats.dump();
}

TEST_F(ProcessTest, PortInUseIsAStartupError) {
  const std::string address = "127.0.0.1:" + std::to_string(port());
  TempDir other("kurz-data2");
  RunResult run =
      RunToExit(KurzBinary(), {"serve", "--listen", address, "--data", other.path().string()}, {},
                std::chrono::seconds(10));
  EXPECT_FALSE(run.status.timed_out) << "started although the port is taken";
  EXPECT_FALSE(run.status.Success()) << run.status.Describe();
  std::vector<std::string> lines = Lines(run.err);
  ASSERT_FALSE(lines.empty()) << "stdout: " << run.out;
  EXPECT_TRUE(lines.back().starts_with("kurz: ")) << run.err;
  // The first server is unharmed.
  EXPECT_EQ(Visit("/healthz").status, 200);
}

struct BadCommandLine {
  std::string name;
  std::vector<std::string> args;  // "{data}" is replaced by a fresh data directory
};

void PrintTo(const BadCommandLine& c, std::ostream* os) {
  *os << c.name << ":";
  for (const auto& a : c.args) *os << " " << a;
}

class BadCommandLineTest : public ::testing::TestWithParam<BadCommandLine> {};

TEST_P(BadCommandLineTest, ExitsNonZeroWithOneLine) {
  TempDir data("kurz-data");
  std::vector<std::string> args = GetParam().args;
  for (auto& arg : args) {
    if (arg == "{data}") arg = data.path().string();
  }
  RunResult run = RunToExit(KurzBinary(), args, {}, std::chrono::seconds(10));
  EXPECT_FALSE(run.status.timed_out) << "kept running";
  EXPECT_TRUE(run.status.exited && run.status.code != 0) << run.status.Describe();
  std::vector<std::string> lines = Lines(run.err);
  ASSERT_EQ(lines.size(), 1u) << "stderr:\n" << run.err << "\nstdout:\n" << run.out;
  EXPECT_TRUE(lines[0].starts_with("kurz: ")) << lines[0];
  EXPECT_EQ(run.out.find("kurz listening on"), std::string::npos) << run.out;
}

INSTANTIATE_TEST_SUITE_P(
    Serve, BadCommandLineTest,
    ::testing::Values(
        BadCommandLine{"UnknownFlag", {"serve", "--bogus"}},
        BadCommandLine{
            "ThreadsNotANumber",
            {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--threads", "abc"}},
        BadCommandLine{"ListenWithoutPort", {"serve", "--listen", "nothere", "--data", "{data}"}},
        BadCommandLine{
            "NegativeRateLimit",
            {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--rate-limit-api", "-1"}},
        BadCommandLine{"RedirectRateLimitNotANumber",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}",
                        "--rate-limit-redirect", "many"}},
        BadCommandLine{"FlagWithoutValue", {"serve", "--listen", "127.0.0.1:0", "--data"}},
        BadCommandLine{"ListenPortOutOfRange",
                       {"serve", "--listen", "127.0.0.1:70000", "--data", "{data}"}},
        BadCommandLine{"UnknownDatabaseScheme",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--database",
                        "nosuch://somewhere"}},
        BadCommandLine{"GeoipFileMissing",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--geoip",
                        "/nonexistent/GeoLite2-City.mmdb"}},
        BadCommandLine{
            "GeoipFileNotAnMmdb",
            {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--geoip", "/etc/hostname"}},
        BadCommandLine{"UapRegexesMissing",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--uap-regexes",
                        "/nonexistent/regexes.yaml"}},
        BadCommandLine{"UapRegexesNotUapYaml",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--uap-regexes",
                        "/etc/hostname"}},
        BadCommandLine{"TrustedProxiesNotCidrs",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--trusted-proxies",
                        "10.0.0.0/8,not-an-address"}},
        BadCommandLine{"TrustedProxiesPrefixTooLong",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--trusted-proxies",
                        "10.0.0.0/33"}},
        BadCommandLine{"WellKnownDirMissing",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--well-known-dir",
                        "/nonexistent/dir"}},
        BadCommandLine{"WellKnownDirIsAFile",
                       {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--well-known-dir",
                        "/etc/hostname"}},
        BadCommandLine{
            "IpSaltSecretTooShort",
            {"serve", "--listen", "127.0.0.1:0", "--data", "{data}", "--ip-salt-secret", "short"}}),
    [](const auto& info) { return info.param.name; });

TEST(CommandLineTest, HelpExitsZero) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, std::vector<std::string>{"serve", "--help"}}) {
    RunResult run = RunToExit(KurzBinary(), args, {}, std::chrono::seconds(10));
    EXPECT_TRUE(run.status.Success()) << args.size() << " args: " << run.status.Describe() << "\n"
                                      << run.err;
    EXPECT_FALSE(run.out.empty()) << "help goes to stdout";
    EXPECT_EQ(run.out.find("kurz listening on"), std::string::npos) << run.out;
  }
  RunResult serve_help = RunToExit(KurzBinary(), {"serve", "--help"});
  for (const char* flag : {"--listen", "--data", "--base-url", "--bootstrap-key",
                           "--rate-limit-api", "--rate-limit-redirect", "--threads"}) {
    EXPECT_NE(serve_help.out.find(flag), std::string::npos) << flag << " not in:\n"
                                                            << serve_help.out;
  }
}

class EnvironmentTest : public KurzTest {
 protected:
  EnvVars ExtraEnv() const override { return {{"KURZ_BASE_URL", "https://from-env.example"}}; }
};

TEST_F(EnvironmentTest, FlagsCanComeFromTheEnvironment) {
  json link = CreateLink({{"url", UniqueUrl()}});
  EXPECT_EQ(link["short_url"], "https://from-env.example/" + link["code"].get<std::string>());
}

class FlagBeatsEnvironmentTest : public KurzTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--base-url", "https://from-flag.example"};
  }
  EnvVars ExtraEnv() const override {
    return {{"KURZ_BASE_URL", "https://from-env.example"}, {"KURZ_RATE_LIMIT_API", "1000"}};
  }
};

TEST_F(FlagBeatsEnvironmentTest, AFlagWinsOverTheEnvironment) {
  json link = CreateLink({{"url", UniqueUrl()}});
  EXPECT_EQ(link["short_url"], "https://from-flag.example/" + link["code"].get<std::string>());
}

TEST(EnvironmentOnlyTest, ServeFromEnvironmentAlone) {
  TempDir data("kurz-data");
  KurzProcess server(KurzBinary(), {"serve"},
                     {{"KURZ_LISTEN", "127.0.0.1:0"},
                      {"KURZ_DATA", data.path().string()},
                      {"KURZ_BOOTSTRAP_KEY", std::string(kBootstrapKey)}});
  ASSERT_TRUE(server.Start()) << server.Describe();
  Reply reply = Api(server.port(), std::string(kBootstrapKey)).Get("/v1/urls");
  EXPECT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_TRUE(server.Terminate().Success()) << server.Describe();
}

class SmallConfigTest : public KurzTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--threads", "1", "--cache-size", "1"};
  }
};

TEST_F(SmallConfigTest, OneThreadAndATinyCacheStillRedirectCorrectly) {
  std::vector<std::pair<std::string, std::string>> links;
  for (int i = 0; i < 4; ++i) {
    const std::string url = UniqueUrl();
    links.emplace_back(CreateLink({{"url", url}})["code"], url);
  }
  for (int round = 0; round < 3; ++round) {
    for (const auto& [code, url] : links) {
      Reply reply = Visit("/" + code);
      ASSERT_EQ(reply.status, 301) << reply.Describe();
      EXPECT_EQ(reply.Header("location"), url) << code;
    }
  }
  Expect(Admin().Delete("/v1/urls/" + links[0].first), 204, "DELETE");
  EXPECT_EQ(Visit("/" + links[0].first).status, 410);
  EXPECT_EQ(Visit("/" + links[1].first).status, 301);
}

}  // namespace
}  // namespace kurz::testing
