// The private servers of the multi-instance tests (declared in cluster_support.hpp): a fresh
// schema, a redis-server child, a Redis cluster, PostgreSQL primaries and replicas, all made and
// removed through scripts/services/*.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "integration/cluster_support.hpp"

namespace kurz::testing::cluster_support {

// ----- Servers of the tests' own -----

PostgresSchema::PostgresSchema(std::string server_url, std::string_view prefix)
    : server_url_(std::move(server_url)), name_(std::string(prefix) + RandomSuffix()) {
  Psql(server_url_, "CREATE SCHEMA " + name_);
}

PostgresSchema::~PostgresSchema() {
  try {
    Psql(server_url_, "DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
}

OwnRedis::OwnRedis() : port_(FreePort(28000, 1000)), dir_("kit-redis") {}

void OwnRedis::Start() {
  if (pid_ > 0) return;
  std::vector<std::string> args = {"/usr/bin/redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir_.path().string(),
                                   "--logfile",
                                   (dir_.path() / "redis.log").string()};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid < 0) throw std::runtime_error("fork for redis-server failed");
  pid_ = pid;
  const bool up = WaitUntil([&] { return Answers() || Exited(); }, milliseconds(10000));
  if (!up || pid_ <= 0) {
    Kill();
    throw std::runtime_error("redis-server on port " + std::to_string(port_) +
                             " did not start (is it installed? scripts/install-deps --test)");
  }
}

void OwnRedis::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool OwnRedis::Answers() const {
  const Fd fd = Connect(static_cast<std::uint16_t>(port_), "127.0.0.1", milliseconds(500));
  if (!fd || !SendRaw(fd.get(), "PING\r\n")) return false;
  char buf[16] = {};
  const ssize_t n = ::recv(fd.get(), buf, sizeof buf - 1, 0);
  return n >= 5 && std::string_view(buf, 5) == "+PONG";
}

bool OwnRedis::Exited() {
  int status = 0;
  if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
  return pid_ <= 0;
}

OwnRedisCluster::OwnRedisCluster()
    : first_port_(FreePorts(17100, 400, 3, 10000)),
      dir_("/tmp/kft-redis-" + std::to_string(::getpid()) + "-" + std::to_string(first_port_)) {
  RunResult r = Script("cluster-start");
  if (!r.status.Success()) {
    Cleanup();
    throw std::runtime_error("scripts/services/redis cluster-start: " + Describe(r));
  }
}

std::string OwnRedisCluster::Url() const {
  return "redis-cluster://127.0.0.1:" + std::to_string(Port(0)) +
         ",127.0.0.1:" + std::to_string(Port(1)) + ",127.0.0.1:" + std::to_string(Port(2));
}

void OwnRedisCluster::Kill(int i) {
  std::ifstream in(dir_ + "/cluster/" + std::to_string(Port(i)) + "/redis.pid");
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 1)
    throw std::runtime_error("no pid file of redis node " + std::to_string(Port(i)));
  if (::kill(pid, SIGKILL) != 0) throw std::runtime_error("kill of redis-server failed");
  // Gone once its port refuses connections.
  WaitUntil([&] { return PortIsFree(Port(i)); }, milliseconds(5000));
}

std::string OwnRedisCluster::State(int i) const {
  RunResult r = RunToExit("/usr/bin/redis-cli",
                          {"-h", "127.0.0.1", "-p", std::to_string(Port(i)), "cluster", "info"});
  const std::size_t at = r.out.find("cluster_state:");
  if (!r.status.Success() || at == std::string::npos) return "";
  const std::size_t end = r.out.find_first_of("\r\n", at);
  return r.out.substr(at + 14, end - at - 14);
}

RunResult OwnRedisCluster::Script(const std::string& command) const {
  return ServiceScript(
      "redis", command,
      {{"KURZ_TEST_REDIS_CLUSTER_PORTS",
        std::to_string(Port(0)) + " " + std::to_string(Port(1)) + " " + std::to_string(Port(2))},
       {"KURZ_TEST_REDIS_DIR", dir_}});
}

void OwnRedisCluster::Cleanup() {
  Script("cluster-stop");
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

OwnPostgres::OwnPostgres()
    : port_(FreePort(29000, 1000)),
      dir_("/tmp/kct-pg-" + std::to_string(::getpid()) + "-" + std::to_string(port_)) {}

void OwnPostgres::Start() {
  RunResult r = Script("start");
  if (!r.status.Success())
    throw std::runtime_error("scripts/services/postgres start: " + Describe(r));
}

std::string OwnPostgres::Url() const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/kurz_test";
}

RunResult OwnPostgres::Script(const std::string& command) const {
  return ServiceScript("postgres", command,
                       {{"KURZ_TEST_PG_DIR", dir_}, {"KURZ_TEST_PG_PORT", std::to_string(port_)}});
}

namespace {
std::string PostgresUrlOn(int port) {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port) + "/kurz_test";
}
}  // namespace

OwnPrimaryAndReplica::OwnPrimaryAndReplica()
    : primary_port_(FreePorts(27500, 250)),
      replica_port_(FreePorts(27750, 250)),
      primary_dir_("/tmp/kft-pg-" + std::to_string(::getpid()) + "-" +
                   std::to_string(primary_port_)),
      replica_dir_("/tmp/kft-pg-replica-" + std::to_string(::getpid()) + "-" +
                   std::to_string(replica_port_)) {}

OwnPrimaryAndReplica::~OwnPrimaryAndReplica() {
  // The promoted replica is stopped by replica-stop like any replica; the primary's directory
  // goes whether or not it still runs.
  Script("replica-stop");
  Script("stop");
}

void OwnPrimaryAndReplica::Start() {
  for (const char* command : {"start", "replica-start"}) {
    RunResult r = Script(command);
    if (!r.status.Success()) {
      throw std::runtime_error(std::string("scripts/services/postgres ") + command + ": " +
                               Describe(r));
    }
  }
}

bool OwnPrimaryAndReplica::WaitReplicated(milliseconds limit) {
  const std::string lsn = Psql(PrimaryUrl(), "SELECT pg_current_wal_lsn()");
  return WaitUntil(
      [&] {
        return Psql(ReplicaUrl(), "SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn") ==
               "t";
      },
      limit, milliseconds(50));
}

std::string OwnPrimaryAndReplica::PrimaryUrl() const { return PostgresUrlOn(primary_port_); }
std::string OwnPrimaryAndReplica::ReplicaUrl() const { return PostgresUrlOn(replica_port_); }

std::string OwnPrimaryAndReplica::MultiHostUrl() const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(primary_port_) +
         ",127.0.0.1:" + std::to_string(replica_port_) +
         "/kurz_test?target_session_attrs=read-write";
}

RunResult OwnPrimaryAndReplica::Script(const std::string& command) const {
  return ServiceScript("postgres", command,
                       {{"KURZ_TEST_PG_DIR", primary_dir_},
                        {"KURZ_TEST_PG_PORT", std::to_string(primary_port_)},
                        {"KURZ_TEST_PG_REPLICA_DIR", replica_dir_},
                        {"KURZ_TEST_PG_REPLICA_PORT", std::to_string(replica_port_)}});
}

OwnReplica::OwnReplica()
    : port_(FreePort(26000, 1000)),
      dir_("/tmp/krt-pg-replica-" + std::to_string(::getpid()) + "-" + std::to_string(port_)) {}

void OwnReplica::Start() {
  RunResult r = Script("replica-start");
  if (!r.status.Success()) {
    throw std::runtime_error("scripts/services/postgres replica-start: " + Describe(r));
  }
}

std::string OwnReplica::Url() const { return PostgresUrlOn(port_); }

RunResult OwnReplica::Script(const std::string& command) const {
  EnvVars env = {{"KURZ_TEST_PG_REPLICA_DIR", dir_},
                 {"KURZ_TEST_PG_REPLICA_PORT", std::to_string(port_)}};
  // The primary is the shared test server.
  if (const std::string port = UrlPort(SharedPostgresUrl()); !port.empty()) {
    env.emplace_back("KURZ_TEST_PG_PORT", port);
  }
  return ServiceScript("postgres", command, env);
}

}  // namespace kurz::testing::cluster_support
