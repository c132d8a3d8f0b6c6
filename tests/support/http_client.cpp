#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace kurz::testing {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ssize_t Recv(int fd, void* data, std::size_t size, int flags) {
  for (;;) {
    const ssize_t n = ::recv(fd, data, size, flags);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

// Reads exactly `size` bytes.
bool ReadExactly(int fd, std::size_t size, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = Recv(fd, out.data() + start + done, size - done, 0);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads up to and including `delimiter`, and not one byte further: peeks, then consumes only
// what belongs to this element.
bool ReadUntil(int fd, std::string_view delimiter, std::string& out, std::size_t limit) {
  out.clear();
  char buffer[4096];
  while (out.size() < limit) {
    const ssize_t n = Recv(fd, buffer, sizeof buffer, MSG_PEEK);
    if (n <= 0) return false;
    // Search the part of `out` that may hold the start of the delimiter plus the peeked bytes.
    const std::size_t keep = std::min(out.size(), delimiter.size() - 1);
    std::string window = out.substr(out.size() - keep);
    window.append(buffer, static_cast<std::size_t>(n));
    const auto found = window.find(delimiter);
    const std::size_t take =
        found == std::string::npos ? static_cast<std::size_t>(n) : found + delimiter.size() - keep;
    if (!ReadExactly(fd, take, out)) return false;
    if (found != std::string::npos) return true;
  }
  return false;
}

bool ParseHead(std::string_view head, HttpResponse& response) {
  const auto line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  const auto first_space = status_line.find(' ');
  if (first_space == std::string_view::npos || !status_line.starts_with("HTTP/")) return false;
  response.version = std::string(status_line.substr(0, first_space));
  const std::string_view rest = status_line.substr(first_space + 1);
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), response.status);
  if (ec != std::errc() || ptr != rest.data() + 3) return false;
  response.reason = std::string(Trim(rest.substr(3)));
  std::string_view fields = head.substr(line_end + 2);
  while (!fields.empty()) {
    const auto end = fields.find("\r\n");
    const std::string_view line = fields.substr(0, end);
    fields.remove_prefix(end == std::string_view::npos ? fields.size() : end + 2);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string name = Lower(Trim(line.substr(0, colon)));
    const std::string value(Trim(line.substr(colon + 1)));
    auto [it, inserted] = response.headers.emplace(name, value);
    if (!inserted) it->second.append(", ").append(value);
  }
  return true;
}

bool ReadChunkedBody(int fd, std::string& body) {
  std::string line;
  for (;;) {
    if (!ReadUntil(fd, "\r\n", line, 4096)) return false;
    std::size_t size = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (ec != std::errc()) return false;
    if (size == 0) break;
    if (!ReadExactly(fd, size, body)) return false;
    std::string crlf;
    if (!ReadExactly(fd, 2, crlf) || crlf != "\r\n") return false;
  }
  for (;;) {  // trailer fields up to the empty line
    if (!ReadUntil(fd, "\r\n", line, 16384)) return false;
    if (line == "\r\n") return true;
  }
}

bool ReadToEof(int fd, std::string& body) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = Recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
    body.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

bool HttpResponse::Has(std::string_view name) const {
  return headers.find(std::string(name)) != headers.end();
}

std::string HttpResponse::Header(std::string_view name) const {
  const auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Fd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Fd Connect(std::uint16_t port, const std::string& host, std::chrono::milliseconds timeout) {
  sockaddr_storage address{};
  socklen_t address_size = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address_size = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address_size = sizeof *v6;
  } else {
    return Fd();
  }
  Fd fd(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Fd();
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), address_size) != 0) return Fd();
  return fd;
}

bool SendRaw(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<HttpResponse> ReadResponse(int fd, bool head_request) {
  HttpResponse response;
  std::string head;
  do {  // skip interim 1xx answers (100 Continue)
    response = HttpResponse();
    if (!ReadUntil(fd, "\r\n\r\n", head, 1 << 20)) return std::nullopt;
    if (!ParseHead(head, response)) return std::nullopt;
  } while (response.status >= 100 && response.status < 200);

  if (head_request || response.status == 204 || response.status == 304) return response;
  if (Lower(response.Header("transfer-encoding")).find("chunked") != std::string::npos) {
    if (!ReadChunkedBody(fd, response.body)) return std::nullopt;
    return response;
  }
  if (response.Has("content-length")) {
    std::size_t size = 0;
    const std::string value = response.Header("content-length");
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
    if (ec != std::errc() || ptr != value.data() + value.size()) return std::nullopt;
    if (!ReadExactly(fd, size, response.body)) return std::nullopt;
    return response;
  }
  if (!ReadToEof(fd, response.body)) return std::nullopt;
  return response;
}

bool WaitForClose(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = Recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;  // reset
  }
}

std::string FormatRequest(std::string_view method, std::string_view target,
                          const HttpHeaders& headers, std::string_view body) {
  bool has_host = false;
  bool framed = false;
  for (const auto& [name, value] : headers) {
    const std::string lower = Lower(name);
    has_host = has_host || lower == "host";
    framed = framed || lower == "content-length" || lower == "transfer-encoding";
  }
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  if (!has_host) request.append("Host: localhost\r\n");
  for (const auto& [name, value] : headers) request.append(name + ": " + value + "\r\n");
  const bool wants_length =
      !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (!framed && wants_length) {
    request.append("Content-Length: " + std::to_string(body.size()) + "\r\n");
  }
  request.append("\r\n");
  request.append(body);
  return request;
}

std::optional<HttpResponse> Request(std::uint16_t port, std::string_view method,
                                    std::string_view target, const HttpHeaders& headers,
                                    std::string_view body, const std::string& host) {
  const Fd fd = Connect(port, host);
  if (!fd) return std::nullopt;
  if (!SendRaw(fd.get(), FormatRequest(method, target, headers, body))) return std::nullopt;
  return ReadResponse(fd.get(), method == "HEAD");
}

}  // namespace kurz::testing
