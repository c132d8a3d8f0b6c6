// The multi-instance tests' helpers, kurz pairs and traffic (declared in cluster_support.hpp;
// the private servers are in own_servers.cpp).

#include "integration/cluster_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>

#ifndef KURZ_SOURCE_DIR
#error "KURZ_SOURCE_DIR must name the source tree (for scripts/services/*)"
#endif

namespace kurz::testing::cluster_support {

using nlohmann::json;

// ----- Time and polling -----

double MillisSince(Clock::time_point start) { return MillisBetween(start, Clock::now()); }

double MillisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

double Median(std::vector<double> v) {
  std::ranges::sort(v);
  return v.empty() ? 0 : v[v.size() / 2];
}

bool WaitUntil(const std::function<bool()>& done, milliseconds limit, milliseconds every) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

// ----- Names, URLs, environment -----

std::string RandomSuffix() {
  std::random_device random;
  const std::uint64_t n = (std::uint64_t{random()} << 32) ^ random();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(n));
  return buf;
}

std::string WithParam(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

std::string WithSearchPath(const std::string& url, const std::string& schema) {
  return WithParam(url, "options=-csearch_path%3D" + schema);
}

std::string UrlPort(const std::string& url) {
  const std::size_t at = url.find('@');
  const std::size_t host = at == std::string::npos ? url.find("://") + 3 : at + 1;
  const std::size_t slash = url.find('/', host);
  const std::size_t colon = url.rfind(':', slash);
  if (colon == std::string::npos || colon < host) return "";
  return url.substr(colon + 1, slash - colon - 1);
}

std::string UniqueUrl(std::string_view tag, int n) {
  static const std::string run = RandomSuffix();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return "https://example.com/" + std::string(info != nullptr ? info->test_suite_name() : "x") +
         "/" + std::string(info != nullptr ? info->name() : "x") + "/" + std::string(tag) + "/" +
         std::to_string(n) + "?run=" + run;
}

std::string RequiredEnv(const char* name, const char* service, const char* start, const char* url) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    const std::string script = std::string("scripts/services/") + service;
    throw std::runtime_error(std::string(name) +
                             " is not set: these tests need the test servers. Run `" + script +
                             " " + start + "` and `export " + name + "=$(" + script + " " + url +
                             ")` (scripts/test does both)");
  }
  return value;
}

std::string SharedPostgresUrl() { return RequiredEnv("KURZ_TEST_POSTGRES_URL", "postgres"); }

// ----- Processes and ports -----

std::string Describe(const RunResult& r) {
  return r.status.Describe() + "\n  stdout: " + r.out + "\n  stderr: " + r.err;
}

bool PortIsFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return free;
}

int FreePorts(int first, int count, int n, int offset) {
  const int slots = count / n;
  const int start = static_cast<int>(::getpid()) % slots;
  for (int i = 0; i < slots; ++i) {
    const int base = first + ((start + i) % slots) * n;
    bool free = true;
    for (int k = 0; k < n && free; ++k) {
      free = PortIsFree(base + k) && (offset == 0 || PortIsFree(base + k + offset));
    }
    if (free) return base;
  }
  throw std::runtime_error("no " + std::to_string(n) + " free ports in " + std::to_string(first) +
                           ".." + std::to_string(first + count - 1));
}

RunResult ServiceScript(const std::string& service, const std::string& command,
                        const EnvVars& env) {
  return RunToExit("/bin/bash",
                   {"-c", "cd /tmp && exec \"$0\" \"$1\"",
                    std::string(KURZ_SOURCE_DIR) + "/scripts/services/" + service, command},
                   env, std::chrono::seconds(120));
}

std::string Psql(const std::string& url, const std::string& sql) {
  RunResult r = RunToExit("/usr/bin/psql",
                          {"-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql});
  if (!r.status.Success()) throw std::runtime_error("psql " + sql + ": " + Describe(r));
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r.out;
}

void PgCtl(const std::string& data_dir, const std::string& args) {
  const std::string command =
      "cd /tmp && bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1) && "
      "if [ \"$(id -u)\" = 0 ]; then as='runuser -u postgres --'; else as=; fi && "
      "$as \"$bin/pg_ctl\" -D \"$0\" " +
      args;
  RunResult r = RunToExit("/bin/bash", {"-c", command, data_dir}, {}, std::chrono::seconds(60));
  if (!r.status.Success()) throw std::runtime_error("pg_ctl " + args + ": " + Describe(r));
}

void StopPostgresImmediately(const std::string& dir) {
  PgCtl(dir + "/data", "-m immediate -w -t 30 stop");
}

// ----- HTTP probes -----

std::string Create(const Api& api, const std::string& url) {
  Reply reply = api.Post("/v1/urls", {{"url", url}});
  Expect(reply, 201, "POST /v1/urls on port " + std::to_string(api.port()));
  return reply.Json().at("code").get<std::string>();
}

std::string RedirectProblem(int port, const std::string& code, const std::string& url) {
  try {
    Reply reply = Visit(port, code);
    if (reply.status == 301 && reply.Header("location") == url) return "";
    return "/" + code + " on port " + std::to_string(port) + " (want 301 to " + url +
           "): " + reply.Describe();
  } catch (const std::exception& e) {
    return "/" + code + " on port " + std::to_string(port) + ": " + e.what();
  }
}

std::optional<double> TimeUntilStatus(int port, const std::string& code, int status,
                                      milliseconds limit, int* polls) {
  const auto start = Clock::now();
  const auto deadline = start + limit;
  for (int n = 1; Clock::now() < deadline; ++n) {
    if (polls != nullptr) *polls = n;
    if (Visit(port, code).status == status) return MillisSince(start);
    std::this_thread::sleep_for(milliseconds(1));
  }
  return std::nullopt;
}

double Metric(int port, std::string_view name) {
  Reply reply = Call(port, "GET", "/metrics");
  Expect(reply, 200, "GET /metrics");
  double sum = -1;
  std::size_t pos = 0;
  while (pos < reply.body.size()) {
    std::size_t end = reply.body.find('\n', pos);
    if (end == std::string::npos) end = reply.body.size();
    std::string_view line(reply.body.data() + pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(name) || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    const std::size_t space = line.rfind(' ');
    sum = std::max(sum, 0.0) + std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
  }
  return sum;
}

double SeriesValue(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    if (line.starts_with(prefix)) return std::strtod(line.c_str() + prefix.size(), nullptr);
    pos = end + 1;
  }
  return -1;
}

std::string ReadyCheck(int port, const std::string& name, int* status) {
  Reply reply = Call(port, "GET", "/readyz");
  if (status != nullptr) *status = reply.status;
  json body = json::parse(reply.body, nullptr, false);
  if (body.is_discarded() || !body.contains("checks") || !body["checks"].contains(name)) return "";
  return body["checks"][name].is_string() ? body["checks"][name].get<std::string>() : "";
}

// ----- Two kurz instances -----

KurzPair::KurzPair(const PairOptions& options)
    : namespace_(options.cache_namespace.empty() ? "kit_" + RandomSuffix()
                                                 : options.cache_namespace) {
  std::string database_url = options.database_url;
  if (database_url.empty()) {
    schema_ = std::make_unique<PostgresSchema>(SharedPostgresUrl());
    database_url = schema_->Url();
  }
  std::string cache_url = options.cache_url;
  if (cache_url.empty()) {
    cache_url = RequiredEnv("KURZ_TEST_REDIS_URL", "redis");
    shared_redis_ = cache_url;
  }
  for (Instance* instance : {&a_, &b_}) {
    instance->data = std::make_unique<TempDir>("kit-data");
    std::vector<std::string> args = {"serve",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--data",
                                     instance->data->path(),
                                     "--database",
                                     database_url,
                                     "--cache",
                                     cache_url,
                                     "--cache-namespace",
                                     namespace_,
                                     "--bootstrap-key",
                                     std::string(kBootstrapKey)};
    const auto& extra = instance == &a_ ? options.args_a : options.args_b;
    args.insert(args.end(), extra.begin(), extra.end());
    instance->process = std::make_unique<KurzProcess>(KurzBinary(), std::move(args));
    if (!instance->process->Start(std::chrono::seconds(60))) {
      throw std::runtime_error("kurz instance " + std::string(instance == &a_ ? "A" : "B") +
                               " did not start:\n" + instance->process->Describe());
    }
  }
}

KurzPair::~KurzPair() {
  for (Instance* instance : {&a_, &b_}) {
    if (!instance->process || !instance->process->running()) continue;
    const ExitStatus status = instance->process->Terminate();
    EXPECT_TRUE(status.Success()) << "kurz instance " << (instance == &a_ ? "A" : "B")
                                  << " did not exit cleanly on SIGTERM: " << status.Describe()
                                  << "\n"
                                  << instance->process->Describe();
  }
  if (!shared_redis_.empty()) {
    // The instances' keys (links are cached for 24 h) would pile up on the shared server.
    RunToExit("/bin/sh", {"-c",
                          "redis-cli -u \"$0\" --scan --pattern \"$1:*\" | "
                          "xargs -r -n 500 redis-cli -u \"$0\" del >/dev/null",
                          shared_redis_, namespace_});
  }
}

std::string KurzPair::Describe() const {
  return "instance A: " + a_.process->Describe() + "\ninstance B: " + b_.process->Describe();
}

// ----- Traffic -----

RedirectTraffic::RedirectTraffic(std::vector<int> ports, std::vector<Link> links)
    : ports_(std::move(ports)),
      links_(std::move(links)),
      answered_(ports_.size()),
      slow_(ports_.size()),
      max_latency_ms_(ports_.size()) {
  for (std::size_t p = 0; p < ports_.size(); ++p) {
    for (int t = 0; t < 2; ++t) threads_.emplace_back([this, p, t] { Run(p, t); });
  }
}

void RedirectTraffic::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::int64_t RedirectTraffic::Answered(std::size_t p) const {
  std::lock_guard lock(mu_);
  return answered_[p];
}

std::int64_t RedirectTraffic::Answered() const {
  std::lock_guard lock(mu_);
  return std::accumulate(answered_.begin(), answered_.end(), std::int64_t{0});
}

std::int64_t RedirectTraffic::Failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

double RedirectTraffic::MaxLatencyMs() const {
  std::lock_guard lock(mu_);
  return max_latency_ms_.empty() ? 0.0 : *std::ranges::max_element(max_latency_ms_);
}

double RedirectTraffic::MaxLatencyMs(std::size_t p) const {
  std::lock_guard lock(mu_);
  return max_latency_ms_[p];
}

void RedirectTraffic::ResetLatency() {
  std::lock_guard lock(mu_);
  std::ranges::fill(slow_, 0);
  std::ranges::fill(max_latency_ms_, 0.0);
}

std::int64_t RedirectTraffic::Slow(std::size_t p) const {
  std::lock_guard lock(mu_);
  return slow_[p];
}

std::vector<std::string> RedirectTraffic::Failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void RedirectTraffic::Run(std::size_t p, int offset) {
  for (std::size_t i = offset; !stop_.load(); ++i) {
    const Link& link = links_[i % links_.size()];
    const auto start = Clock::now();
    std::string problem = RedirectProblem(ports_[p], link.code, link.url);
    const double ms = MillisSince(start);
    std::lock_guard lock(mu_);
    ++answered_[p];
    max_latency_ms_[p] = std::max(max_latency_ms_[p], ms);
    if (ms > 100) ++slow_[p];
    if (problem.empty()) continue;
    ++failed_;
    if (failures_.size() < 20) failures_.push_back(std::move(problem));
  }
}

CreateTraffic::CreateTraffic(std::vector<int> ports) : answers_(ports.size()) {
  for (std::size_t i = 0; i < ports.size(); ++i) {
    threads_.emplace_back([this, i, port = ports[i]] { Run(i, port); });
  }
}

void CreateTraffic::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<CreateTraffic::Answer> CreateTraffic::Answers(std::size_t i) const {
  std::lock_guard lock(mu_);
  return answers_[i];
}

bool CreateTraffic::Recovered(std::size_t i, Clock::time_point since, int n) const {
  std::lock_guard lock(mu_);
  const auto& list = answers_[i];
  if (list.size() < static_cast<std::size_t>(n)) return false;
  for (std::size_t k = list.size() - n; k < list.size(); ++k) {
    if (list[k].status != 201 || list[k].sent < since) return false;
  }
  return true;
}

void CreateTraffic::Run(std::size_t i, int port) {
  const Api api(port, std::string(kBootstrapKey));
  for (int n = 0; !stop_.load(); ++n) {
    Answer answer;
    answer.url = UniqueUrl("traffic-" + std::to_string(i), n);
    answer.sent = Clock::now();
    try {
      Reply reply = api.Post("/v1/urls", {{"url", answer.url}});
      answer.status = reply.status;
      answer.retry_after = reply.Has("retry-after");
      if (reply.status == 201) {
        answer.code = reply.Json().at("code").get<std::string>();
      } else if (reply.status != 503) {
        answer.problem = reply.Describe();
      }
    } catch (const std::exception& e) {
      answer.status = 0;
      answer.problem = std::string("no answer: ") + e.what();
    }
    answer.answered = Clock::now();
    {
      std::lock_guard lock(mu_);
      answers_[i].push_back(std::move(answer));
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

}  // namespace kurz::testing::cluster_support
