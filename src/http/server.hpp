#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace kurz::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

// One parsed request. Every view points into the connection's buffers and stays valid until the
// response is sent (the connection reads nothing further meanwhile).
struct Request {
  Method method = Method::kOther;
  std::string_view method_text;
  std::string_view target;  // as sent
  std::string_view path;    // target before '?'
  std::string_view query;   // after '?', without it; empty when absent
  // The headers kurz uses, trimmed; empty when absent. For repeated headers the first wins,
  // except X-Forwarded-For whose values are joined with ", ".
  std::string_view host;
  std::string_view content_type;
  std::string_view authorization;
  std::string_view api_key;     // X-API-Key
  std::string_view request_id;  // X-Request-Id
  std::string_view accept;
  std::string_view user_agent;
  std::string_view referer;
  std::string_view accept_language;
  std::string_view forwarded_for;  // X-Forwarded-For
  std::string_view body;           // de-chunked
  bool keep_alive = true;
  std::array<std::uint8_t, 16> peer_ip{};  // IPv6 or IPv4-mapped IPv6
  int loop_index = 0;                      // which event loop thread runs this request
};

struct Header {
  std::string_view name;
  std::string_view value;
};

// The body of a streamed response, produced piece by piece off the loop and sent with
// Transfer-Encoding: chunked (to an HTTP/1.0 client: until the connection closes). Memory stays
// bounded by one piece whatever the body's size: the next piece is asked for only once the
// previous one was written to the socket.
struct BodyStream {
  // Appends the next piece of the body to `chunk` (empty at each call). true: more follows;
  // false: the body is complete (this last piece may be empty). An error (or an exception) ends
  // the response by closing the connection without the final chunk, since the status line is
  // already sent; the server logs it and counts it (ServerStats::stream_errors). Called on
  // `run`'s threads, one call at a time; never again once the client has gone.
  std::function<core::Result<bool>(std::string& chunk)> produce;
  // Runs a task off the event loop (a worker pool). false when it cannot, which ends the
  // response as a producer error does.
  std::function<bool(std::function<void()> task)> run;
};

// A response that owns its bytes, for answers produced off the loop.
struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;
  // When set, the body is streamed from it instead (no Content-Length, `body` is ignored). Only
  // answers given through a DeferredResponder may stream. HEAD sends the head and never calls
  // the producer.
  std::shared_ptr<BodyStream> stream;
};

namespace detail {
class DeferredTarget {
 public:
  virtual ~DeferredTarget() = default;
  virtual void Complete(Response&& response) = 0;
};
}  // namespace detail

// Completes a request later, from any thread. Destroying it unsent answers 500.
class DeferredResponder {
 public:
  DeferredResponder() = default;
  explicit DeferredResponder(std::shared_ptr<detail::DeferredTarget> target)
      : target_(std::move(target)) {}
  DeferredResponder(DeferredResponder&&) noexcept = default;
  DeferredResponder& operator=(DeferredResponder&& other) noexcept;
  DeferredResponder(const DeferredResponder&) = delete;
  DeferredResponder& operator=(const DeferredResponder&) = delete;
  ~DeferredResponder();

  // Sends the response on the connection's loop; call at most once.
  void Send(Response response);

 private:
  std::shared_ptr<detail::DeferredTarget> target_;
};

// The connection side of one request, given to the handler on the loop thread. Exactly one of
// Send or Defer must be called.
class Responder {
 public:
  virtual ~Responder() = default;
  // Serialises the response into the connection's reused output buffer now. Content-Length and,
  // when the connection will close, "Connection: close" are added; for HEAD the body is not sent.
  // The views need only live for the call. No allocation once the buffer has grown.
  virtual void Send(int status, std::span<const Header> headers, std::string_view body) = 0;
  // Hands the request off the loop (to a worker pool); the connection waits for the answer
  // before reading further pipelined requests, so responses stay in order.
  virtual DeferredResponder Defer() = 0;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Called on a loop thread for every complete request. Must not block.
  virtual void Handle(const Request& request, Responder& responder) = 0;
  // Called for requests the server rejects before they are complete (malformed, too large,
  // timed out): status is 400, 408, 413, 431, 501 or 505; code a machine code such as
  // "invalid_argument" or "payload_too_large". The connection closes after the answer.
  virtual void HandleProtocolError(int status, std::string_view code, std::string_view message,
                                   Responder& responder) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: pick a free port (Listen returns it)
  int threads = 1;            // event loops, each with its own SO_REUSEPORT acceptor
  std::size_t max_head_bytes = std::size_t{16} * 1024;  // request line + headers; 431 beyond
  std::size_t max_body_bytes = std::size_t{64} * 1024;  // 413 beyond
  std::chrono::milliseconds header_timeout{10'000};     // a request head must arrive within this
  std::chrono::milliseconds body_timeout{30'000};       // its body within this after the head
  std::chrono::milliseconds idle_timeout{60'000};       // keep-alive connections close after this
  std::size_t max_connections = 10'000;                 // per server; beyond, new ones are closed
};

// Counters the server keeps (read by /metrics).
struct ServerStats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t connections_rejected = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t streams_total = 0;      // streamed responses begun (HEAD excluded)
  std::uint64_t stream_errors = 0;      // cut short by their producer (or a refused task)
  std::uint64_t streams_abandoned = 0;  // the client went away before the end
};

// HTTP/1.1 server: keep-alive, pipelining, chunked request bodies, limits and timeouts.
class Server {
 public:
  Server(ServerOptions options, Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every loop's acceptor; returns the bound port. unavailable with the reason on failure.
  core::Result<std::uint16_t> Listen();
  // Runs the loops on `threads` threads (this thread included) until Stop() has drained them.
  void Run();
  // Thread-safe. Stops accepting, lets in-flight requests finish and closes idle connections;
  // Run() returns when every connection is gone (or after `grace`).
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  ServerStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kurz::http
