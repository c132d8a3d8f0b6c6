#pragma once

// A small blocking HTTP/1.1 client over raw POSIX sockets, for tests that talk to a real server:
// it sends exactly the bytes it is given, so tests can also send malformed or pipelined input.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurz::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::string version;  // "HTTP/1.1"
  std::string reason;
  std::map<std::string, std::string> headers;  // lowercase names; repeats joined with ", "
  std::string body;                            // de-chunked

  bool Has(std::string_view name) const;            // name in lowercase
  std::string Header(std::string_view name) const;  // "" when absent; name in lowercase
};

// An owned socket descriptor; closes on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void Reset();

 private:
  int fd_ = -1;
};

// Connects over TCP (IPv4 or IPv6 literal host). Reads time out after `timeout`, so a test
// waiting for an answer that never comes fails instead of hanging. Invalid Fd on failure.
Fd Connect(std::uint16_t port, const std::string& host = "127.0.0.1",
           std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Writes all of `bytes`; false when the connection failed.
bool SendRaw(int fd, std::string_view bytes);

// Reads one response: head, then a body framed by Content-Length or chunked encoding, or (with
// neither) up to EOF. Reads no byte beyond the response, so pipelined answers can be read one by
// one from the same socket. `head_request`: the answer to HEAD has no body whatever its
// Content-Length says. nullopt on EOF, timeout or a malformed response.
std::optional<HttpResponse> ReadResponse(int fd, bool head_request = false);

// True when the peer closes (EOF or reset) within `timeout`; data still arriving is discarded.
bool WaitForClose(int fd, std::chrono::milliseconds timeout);

// Builds a request. Adds "Host: localhost" unless `headers` has a Host, and Content-Length when
// there is a body (or for POST, PUT and PATCH) unless `headers` frames the body itself.
std::string FormatRequest(std::string_view method, std::string_view target,
                          const HttpHeaders& headers = {}, std::string_view body = {});

// One request on a fresh connection (closed afterwards). nullopt when anything failed.
std::optional<HttpResponse> Request(std::uint16_t port, std::string_view method,
                                    std::string_view target, const HttpHeaders& headers = {},
                                    std::string_view body = {},
                                    const std::string& host = "127.0.0.1");

}  // namespace kurz::testing
