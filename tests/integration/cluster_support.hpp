#pragma once

// Helpers shared by the tests that run several kurz instances and their own servers
// (cluster_test, failover_test, replica_test).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"
#include "support/kurz_process.hpp"

namespace kurz::testing::cluster_support {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline Reply Visit(int port, const std::string& code) { return Call(port, "GET", "/" + code); }

inline double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Polls `done` every `every` until it holds or `limit` passes; the last answer.
inline bool WaitUntil(const std::function<bool()>& done, milliseconds limit,
                      milliseconds every = milliseconds(20)) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

inline std::string RandomSuffix() {
  std::random_device random;
  const std::uint64_t n = (std::uint64_t{random()} << 32) ^ random();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(n));
  return buf;
}

inline std::string WithParam(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

inline std::string Describe(const RunResult& r) {
  return r.status.Describe() + "\n  stdout: " + r.out + "\n  stderr: " + r.err;
}

inline bool PortIsFree(int port) {
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

// A free port in [first, first + count), below 32768 (outside the ephemeral range), starting at a
// point spread by pid so that parallel test processes rarely try the same one.
inline int FreePort(int first, int count) {
  const int start = static_cast<int>(::getpid()) % count;
  for (int i = 0; i < count; ++i) {
    const int candidate = first + (start + i) % count;
    if (PortIsFree(candidate)) return candidate;
  }
  throw std::runtime_error("no free port in " + std::to_string(first) + ".." +
                           std::to_string(first + count - 1));
}

// psql -tA on `url`: the output without the trailing newline; throws on failure.
inline std::string Psql(const std::string& url, const std::string& sql) {
  RunResult r = RunToExit("/usr/bin/psql",
                          {"-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql});
  if (!r.status.Success()) throw std::runtime_error("psql " + sql + ": " + Describe(r));
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r.out;
}

// POST /v1/urls expecting 201; returns the code.
inline std::string Create(const Api& api, const std::string& url) {
  Reply reply = api.Post("/v1/urls", {{"url", url}});
  Expect(reply, 201, "POST /v1/urls on port " + std::to_string(api.port()));
  return reply.Json().at("code").get<std::string>();
}

// "" when GET /<code> answers 301 to `url`, else what it answered.
inline std::string RedirectProblem(int port, const std::string& code, const std::string& url) {
  try {
    Reply reply = Visit(port, code);
    if (reply.status == 301 && reply.Header("location") == url) return "";
    return "/" + code + " on port " + std::to_string(port) + " (want 301 to " + url +
           "): " + reply.Describe();
  } catch (const std::exception& e) {
    return "/" + code + " on port " + std::to_string(port) + ": " + e.what();
  }
}

// A counter's value from GET /metrics (the sum over its label sets); -1 when absent.
inline double Metric(int port, std::string_view name) {
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

// GET /readyz's checks.cache ("" when the body has none).
inline std::string ReadyCheck(int port, const std::string& name, int* status = nullptr) {
  Reply reply = Call(port, "GET", "/readyz");
  if (status != nullptr) *status = reply.status;
  json body = json::parse(reply.body, nullptr, false);
  if (body.is_discarded() || !body.contains("checks") || !body["checks"].contains(name)) return "";
  return body["checks"][name].is_string() ? body["checks"][name].get<std::string>() : "";
}

// The value of a test server variable; throws (failing the test, never skipping it) with the
// commands that start the server when it is unset.
inline std::string RequiredEnv(const char* name, const char* service) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: the cluster tests need the test servers. Run "
                             "`scripts/services/" +
                             service + " start` and `export " + name + "=$(scripts/services/" +
                             service + " url)` (scripts/test does both)");
  }
  return value;
}

// A fresh schema kct_<random> in the shared test database, dropped (CASCADE) on destruction.
class PostgresSchema {
 public:
  explicit PostgresSchema(std::string server_url)
      : server_url_(std::move(server_url)), name_("kct_" + RandomSuffix()) {
    RunResult r = Psql("CREATE SCHEMA " + name_);
    if (!r.status.Success())
      throw std::runtime_error("CREATE SCHEMA " + name_ + ": " + Describe(r));
  }
  ~PostgresSchema() { Psql("DROP SCHEMA IF EXISTS " + name_ + " CASCADE"); }
  PostgresSchema(const PostgresSchema&) = delete;
  PostgresSchema& operator=(const PostgresSchema&) = delete;

  // The server URL with the schema as the only one on the search_path.
  std::string Url() const { return WithParam(server_url_, "options=-csearch_path%3D" + name_); }

 private:
  RunResult Psql(const std::string& sql) const {
    return RunToExit("/usr/bin/psql",
                     {"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server_url_, "-c", sql});
  }

  std::string server_url_;
  std::string name_;
};

// pg_ctl -m immediate stop of the PostgreSQL server whose files are in `dir` (made by
// scripts/services/postgres): every backend dies at once, as in a crash; its data stays.
// Throws on failure.
inline void StopPostgresImmediately(const std::string& dir) {
  const std::string command =
      "cd /tmp && bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1) && "
      "if [ \"$(id -u)\" = 0 ]; then as='runuser -u postgres --'; else as=; fi && "
      "$as \"$bin/pg_ctl\" -D \"$0/data\" -m immediate -w -t 30 stop";
  RunResult r = RunToExit("/bin/bash", {"-c", command, dir});
  if (!r.status.Success()) throw std::runtime_error("pg_ctl stop: " + Describe(r));
}

// A short link and the URL it must redirect to.
struct Link {
  std::string code;
  std::string url;
};

// Redirects of `links` on each of `ports` from two threads per port until stopped; counts the
// answers per port and keeps the wrong ones.
class RedirectTraffic {
 public:
  RedirectTraffic(std::vector<int> ports, std::vector<Link> links)
      : ports_(std::move(ports)),
        links_(std::move(links)),
        answered_(ports_.size()),
        slow_(ports_.size()),
        max_latency_ms_(ports_.size()) {
    for (std::size_t p = 0; p < ports_.size(); ++p) {
      for (int t = 0; t < 2; ++t) threads_.emplace_back([this, p, t] { Run(p, t); });
    }
  }
  ~RedirectTraffic() { Stop(); }
  RedirectTraffic(const RedirectTraffic&) = delete;
  RedirectTraffic& operator=(const RedirectTraffic&) = delete;

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::int64_t Answered(std::size_t p) const {
    std::lock_guard lock(mu_);
    return answered_[p];
  }
  std::int64_t Failed() const {
    std::lock_guard lock(mu_);
    return failed_;
  }
  // Over every port.
  std::int64_t Answered() const {
    std::lock_guard lock(mu_);
    return std::accumulate(answered_.begin(), answered_.end(), std::int64_t{0});
  }
  double MaxLatencyMs() const {
    std::lock_guard lock(mu_);
    return max_latency_ms_.empty()
               ? 0.0
               : *std::max_element(max_latency_ms_.begin(), max_latency_ms_.end());
  }
  double MaxLatencyMs(std::size_t p) const {
    std::lock_guard lock(mu_);
    return max_latency_ms_[p];
  }
  // Starts the latency figures (MaxLatencyMs, Slow) afresh.
  void ResetLatency() {
    std::lock_guard lock(mu_);
    std::ranges::fill(slow_, 0);
    std::ranges::fill(max_latency_ms_, 0.0);
  }
  // Answers that took over 100 ms.
  std::int64_t Slow(std::size_t p) const {
    std::lock_guard lock(mu_);
    return slow_[p];
  }
  std::vector<std::string> Failures() const {
    std::lock_guard lock(mu_);
    return failures_;
  }

 private:
  void Run(std::size_t p, int offset) {
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

  std::vector<int> ports_;
  std::vector<Link> links_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_ = false;
  mutable std::mutex mu_;
  std::vector<std::int64_t> answered_;
  std::vector<std::int64_t> slow_;
  std::vector<double> max_latency_ms_;
  std::int64_t failed_ = 0;
  std::vector<std::string> failures_;
};

}  // namespace kurz::testing::cluster_support
