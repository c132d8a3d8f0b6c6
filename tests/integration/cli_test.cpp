// The admin commands (`kurz migrate`, `kurz keys`, `kurz users`) on a real data directory, and
// a server that sees what they did.

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"

namespace kurz::testing {
namespace {

// One request; a failed connection reads as status 0.
HttpResponse Call(int port, std::string_view method, std::string_view target,
                  const HttpHeaders& headers = {}, std::string_view body = {}) {
  auto response = Request(static_cast<std::uint16_t>(port), method, target, headers, body);
  return response ? *response : HttpResponse{};
}

class CliTest : public ::testing::Test {
 protected:
  RunResult Run(std::vector<std::string> args) {
    args.push_back("--data");
    args.push_back(data_.path().string());
    return RunToExit(KurzBinary(), args);
  }
  // The key printed on the last line of a create command.
  static std::string KeyIn(const std::string& out) {
    std::smatch m;
    const std::regex key("(kz_[A-Za-z0-9]{40})");
    EXPECT_TRUE(std::regex_search(out, m, key)) << out;
    return m.size() > 1 ? m[1].str() : "";
  }

  TempDir data_{"kurz-cli"};
};

TEST_F(CliTest, MigrateCreatesTheSchemaOnceAndIsIdempotent) {
  RunResult first = Run({"migrate"});
  ASSERT_TRUE(first.status.Success()) << first.status.Describe() << first.err;
  EXPECT_NE(first.out.find("7 migration(s) applied"), std::string::npos) << first.out;
  RunResult second = Run({"migrate"});
  ASSERT_TRUE(second.status.Success()) << second.err;
  EXPECT_NE(second.out.find("0 migration(s) applied"), std::string::npos) << second.out;
}

TEST_F(CliTest, UsersAndKeysMadeOnTheCommandLineWorkOverHttp) {
  RunResult user = Run({"users", "create", "--email", "cli@example.com", "--tier", "pro"});
  ASSERT_TRUE(user.status.Success()) << user.err;
  const std::string user_key = KeyIn(user.out);

  RunResult list = Run({"users", "list"});
  ASSERT_TRUE(list.status.Success()) << list.err;
  EXPECT_NE(list.out.find("cli@example.com"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("pro"), std::string::npos) << list.out;

  RunResult key =
      Run({"keys", "create", "--user", "1", "--name", "ci", "--permissions", "create,read"});
  ASSERT_TRUE(key.status.Success()) << key.err;
  const std::string read_key = KeyIn(key.out);

  KurzProcess server(KurzBinary(),
                     {"serve", "--listen", "127.0.0.1:0", "--data", data_.path().string()});
  ASSERT_TRUE(server.Start()) << server.Stderr();
  const auto created =
      Call(server.port(), "POST", "/v1/urls",
           {{"Authorization", "Bearer " + user_key}, {"Content-Type", "application/json"}},
           R"({"url":"https://example.com/from-cli-user"})");
  EXPECT_EQ(created.status, 201) << created.body;
  const auto forbidden = Call(server.port(), "DELETE", "/v1/urls/whatever",
                              {{"Authorization", "Bearer " + read_key}}, "");
  EXPECT_EQ(forbidden.status, 403) << "a key without delete must be refused: " << forbidden.body;
}

TEST_F(CliTest, RevokedAndSuspendedOnTheCommandLineStopWorking) {
  // On an empty database the first user made on the command line gets id 1, its key id 1.
  RunResult user = Run({"users", "create", "--email", "gone@example.com"});
  ASSERT_TRUE(user.status.Success()) << user.err;
  const std::string key = KeyIn(user.out);
  RunResult keys = Run({"keys", "list", "--user", "1"});
  ASSERT_TRUE(keys.status.Success()) << keys.err;
  EXPECT_NE(keys.out.find(key.substr(0, 6)), std::string::npos) << keys.out;

  RunResult suspend = Run({"users", "suspend", "1"});
  ASSERT_TRUE(suspend.status.Success()) << suspend.err;
  EXPECT_NE(suspend.out.find("suspended"), std::string::npos) << suspend.out;

  KurzProcess server(KurzBinary(),
                     {"serve", "--listen", "127.0.0.1:0", "--data", data_.path().string()});
  ASSERT_TRUE(server.Start()) << server.Stderr();
  EXPECT_EQ(Call(server.port(), "GET", "/v1/urls", {{"Authorization", "Bearer " + key}}, "").status,
            401);
  ASSERT_TRUE(Run({"users", "activate", "1"}).status.Success());
  EXPECT_EQ(Call(server.port(), "GET", "/v1/urls", {{"Authorization", "Bearer " + key}}, "").status,
            200);
  ASSERT_TRUE(Run({"keys", "revoke", "1", "--user", "1"}).status.Success());
  EXPECT_EQ(Call(server.port(), "GET", "/v1/urls", {{"Authorization", "Bearer " + key}}, "").status,
            401);
}

TEST_F(CliTest, BadInputGivesOneLineAndANonZeroExit) {
  const std::vector<std::vector<std::string>> bad = {
      {"users", "create"},
      {"users", "create", "--email", "not-an-email"},
      {"users", "create", "--email", "a@example.com", "--tier", "gold"},
      {"users", "suspend", "abc"},
      {"users", "suspend", "999"},
      {"users", "frobnicate"},
      {"keys", "create"},
      {"keys", "create", "--user", "1", "--permissions", "create,fly"},
      {"keys", "revoke", "--user", "1"},
      {"keys", "list", "--user", "0"},
      {"migrate", "--bogus"},
      {"nosuchcommand"},
  };
  for (const auto& args : bad) {
    RunResult run = Run(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_FALSE(run.status.Success()) << joined;
    EXPECT_TRUE(run.status.exited) << joined << " crashed: " << run.status.Describe();
    EXPECT_EQ(run.err.rfind("kurz: ", 0), 0u) << joined << " stderr: " << run.err;
  }
}

// The pipeline's flags are checked before anything is contacted: each mistake is one line naming
// the flag and exit status 2.
TEST_F(CliTest, BadPipelineFlagsAreRefusedWithExitTwo) {
  const std::string kafka = "kafka://127.0.0.1:9/click-events";
  const std::string ch = "clickhouse://127.0.0.1:9/kurz";
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> bad = {
      {{"worker"}, "--events kafka://"},
      {{"worker", "--events", kafka}, "--analytics clickhouse://"},
      {{"worker", "--events", "redis://x:1/t", "--analytics", ch}, "--events"},
      {{"worker", "--events", "kafka://nohost/click-events", "--analytics", ch}, "--events"},
      {{"worker", "--events", "kafka://h:1/", "--analytics", ch}, "--events"},
      {{"worker", "--events", "kafka://h:1/bad topic", "--analytics", ch}, "--events"},
      {{"worker", "--events", kafka, "--analytics", "clickhouse://h/db"}, "--analytics"},
      {{"worker", "--events", kafka, "--analytics", "clickhouse://h:1/bad-name"}, "--analytics"},
      {{"worker", "--events", kafka, "--analytics", ch, "--group", "a b"}, "--group"},
      {{"worker", "--events", kafka, "--analytics", ch, "--flush-interval-ms", "0"},
       "--flush-interval-ms"},
      {{"worker", "--events", kafka, "--analytics", ch, "--session-timeout-ms", "x"},
       "--session-timeout-ms"},
      {{"worker", "--events", kafka, "--analytics", ch, "--listen", "nowhere"}, "--listen"},
      {{"worker", "--events", kafka, "--analytics", ch, "--bogus", "1"}, "--bogus"},
      {{"serve", "--events", "rabbitmq://h:1/q"}, "--events"},
      {{"serve", "--events", "kafka://h:99999/t"}, "--events"},
      {{"serve", "--analytics", ch}, "unknown flag '--analytics'"},
      {{"serve", "--spool-max-bytes", "12"}, "--spool-max-bytes"},
      {{"serve", "--spool-dir", ""}, "--spool-dir"},
  };
  for (const Case& c : bad) {
    RunResult run = Run(c.args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_TRUE(run.status.exited && run.status.code == 2)
        << joined << ": " << run.status.Describe() << " " << run.err;
    EXPECT_NE(run.err.find(c.says), std::string::npos) << joined << " stderr: " << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << joined << run.err;
  }
}

TEST_F(CliTest, WorkerHelpListsItsFlags) {
  RunResult run = Run({"worker", "--help"});
  ASSERT_TRUE(run.status.Success()) << run.err;
  for (const char* flag : {"--events", "--group", "--analytics", "--database", "--cache",
                           "--listen", "--flush-interval-ms", "--session-timeout-ms"}) {
    EXPECT_NE(run.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace kurz::testing
